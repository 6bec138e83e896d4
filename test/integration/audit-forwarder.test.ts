import { gzipSync } from 'node:zlib';
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  FilterLogEventsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import type { CloudWatchLogsEvent } from 'aws-lambda';
import { auditEventsOf, batchesOf, createAuditForwarder } from '../../lambda/audit/audit-forwarder';
import { type MotoServer, startMotoServer } from '../support/moto-server';
import { MOTO_CREDENTIALS, MOTO_REGION } from '../support/secrets-manager-client';

/**
 * The audit forwarder against CloudWatch Logs' real protocol (moto on loopback): what the proxy
 * log group's subscription delivers goes into the audit log group, audit lines only, with their
 * own timestamps.
 */
let moto: MotoServer;
let logs: CloudWatchLogsClient;
const GROUP = '/ioto-bff/test/audit';

beforeAll(async () => {
  moto = await startMotoServer();
  logs = new CloudWatchLogsClient({
    endpoint: moto.endpoint,
    region: MOTO_REGION,
    credentials: MOTO_CREDENTIALS,
  });
  await logs.send(new CreateLogGroupCommand({ logGroupName: GROUP }));
}, 30_000);

afterAll(async () => {
  logs?.destroy();
  await moto?.stop();
});

const line = (message: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ level: 'INFO', message, service: 'ioto-bff', ...extra });

/** A subscription delivery, as CloudWatch Logs hands it to the function. */
const delivery = (
  events: { timestamp: number; message: string }[],
  messageType = 'DATA_MESSAGE',
): CloudWatchLogsEvent => ({
  awslogs: {
    data: gzipSync(
      JSON.stringify({
        messageType,
        owner: '123456789012',
        logGroup: '/aws/lambda/proxy',
        logStream: '2026/11/26/[live]abc',
        subscriptionFilters: ['audit'],
        logEvents: events.map((event, index) => ({ id: String(index), ...event })),
      }),
    ).toString('base64'),
  },
});

describe('the audit forwarder', () => {
  it('copies only the audit lines, oldest first, with their timestamps', async () => {
    const t = Date.now() - 60_000;
    const forward = createAuditForwarder({ logs, logGroupName: GROUP });
    const result = await forward(
      delivery([
        { timestamp: t + 2, message: line('audit', { partnerId: 'acme', outcome: 'refused' }) },
        { timestamp: t + 1, message: line('forwarded', { partnerId: 'acme' }) },
        { timestamp: t, message: line('audit', { partnerId: 'acme', outcome: 'forwarded' }) },
        { timestamp: t + 3, message: 'not JSON: audit' },
      ]),
    );
    expect(result).toEqual({ forwarded: 2 });
    const stored = await logs.send(new FilterLogEventsCommand({ logGroupName: GROUP }));
    expect(
      (stored.events ?? []).map((event) => [
        event.timestamp,
        JSON.parse(event.message ?? '{}').outcome,
      ]),
    ).toEqual([
      [t, 'forwarded'],
      [t + 2, 'refused'],
    ]);
  });

  it('ignores CloudWatch Logs control messages', () => {
    expect(auditEventsOf(delivery([], 'CONTROL_MESSAGE'))).toEqual([]);
  });

  it('fails the delivery (so CloudWatch Logs retries it) when the audit group is missing', async () => {
    const forward = createAuditForwarder({ logs, logGroupName: '/ioto-bff/test/missing' });
    await expect(
      forward(delivery([{ timestamp: Date.now(), message: line('audit', { partnerId: 'x' }) }])),
    ).rejects.toThrow();
  });
});

describe('batchesOf', () => {
  it('keeps every batch within PutLogEvents limits of events and bytes', () => {
    const big = 'x'.repeat(100_000);
    const events = Array.from({ length: 25 }, (_, i) => ({ timestamp: i, message: big }));
    const batches = batchesOf(events);
    expect(batches.flat()).toEqual(events);
    for (const batch of batches) {
      const bytes = batch.reduce((sum, event) => sum + event.message.length + 26, 0);
      expect(bytes).toBeLessThanOrEqual(1_048_576);
    }
    expect(
      batchesOf(Array.from({ length: 10_001 }, (_, i) => ({ timestamp: i, message: 'a' }))),
    ).toHaveLength(2);
  });
});
