import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import middy from '@middy/core';
import type { CloudWatchLogsEvent } from 'aws-lambda';
import { createAuditForwarder } from '../audit/audit-forwarder';
import { auditForwarderEnvSchema, readEnv } from '../config/env';

/**
 * Composition root of the audit forwarder: the proxy log group's subscription filter hands it
 * the audit lines, which it copies into the audit log group (one year of retention by default).
 */
const env = readEnv(auditForwarderEnvSchema);
const logger = new Logger();
const forward = createAuditForwarder({
  logs: new CloudWatchLogsClient({
    requestHandler: { connectionTimeout: 1_000, requestTimeout: 5_000 },
  }),
  logGroupName: env.AUDIT_LOG_GROUP_NAME,
});

export const handler = middy(async (event: CloudWatchLogsEvent) => {
  const { forwarded } = await forward(event);
  logger.debug('audit lines forwarded', { forwarded });
}).use(injectLambdaContext(logger));
