import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import {
  callerIdentity,
  lambdaContext as emulatedContext,
} from '../../dev/local-gateway/api-gateway-emulator';

export interface RestEventInput {
  readonly method?: string;
  /** e.g. `/v1/device/find` */
  readonly path: string;
  readonly body?: unknown;
  /** A raw body, sent as is (wins over `body`). */
  readonly rawBody?: string;
  readonly headers?: Record<string, string>;
  /** The partner the authorizer identified (`tester` by default; `null` for none). */
  readonly partnerId?: string | null;
}

/**
 * An API Gateway REST (v1 proxy) event as the CDK stack's explicit `/v1/{controller}/{operation}`
 * resources deliver it: no path parameters, the resource path names the operation.
 */
export function restEvent(input: RestEventInput): APIGatewayProxyEvent {
  const method = input.method ?? 'POST';
  const body = input.rawBody ?? (input.body === undefined ? null : JSON.stringify(input.body));
  const headers = {
    'Content-Type': 'application/json',
    Host: 'abc123.execute-api.eu-west-1.amazonaws.com',
    'User-Agent': 'partner-service/1.0',
    'X-Forwarded-For': '203.0.113.10',
    ...input.headers,
  };
  return {
    resource: input.path,
    path: input.path,
    httpMethod: method,
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    body,
    isBase64Encoded: false,
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123',
      authorizer:
        input.partnerId === null
          ? null
          : {
              principalId: input.partnerId ?? 'tester',
              partnerId: input.partnerId ?? 'tester',
              integrationLatency: 12,
            },
      protocol: 'HTTP/1.1',
      httpMethod: method,
      identity: callerIdentity('203.0.113.10', 'partner-service/1.0'),
      path: `/prod${input.path}`,
      stage: 'prod',
      requestId: randomUUID(),
      requestTimeEpoch: Date.now(),
      resourceId: 'res123',
      resourcePath: input.path,
    },
  };
}

/** A Lambda context with a 10 s budget. */
export const lambdaContext = (): Context => emulatedContext('ioto-bff-proxy', 10_000);
