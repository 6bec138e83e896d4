import { randomUUID } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import {
  type CloudWatchLogsClient,
  CreateLogStreamCommand,
  PutLogEventsCommand,
  ResourceAlreadyExistsException,
} from '@aws-sdk/client-cloudwatch-logs';
import type { CloudWatchLogsDecodedData, CloudWatchLogsEvent } from 'aws-lambda';
import { AUDIT_MESSAGE } from './audit-trail';

/** One audit line as CloudWatch Logs takes it. */
export interface AuditEvent {
  readonly timestamp: number;
  readonly message: string;
}

/**
 * The audit lines of a CloudWatch Logs subscription delivery (base64 of gzipped JSON): the
 * proxy's log events whose JSON `message` is `audit`, oldest first. The subscription's filter
 * pattern already selects them; a line of another shape that got through is dropped here.
 */
export function auditEventsOf(event: CloudWatchLogsEvent): AuditEvent[] {
  const data = JSON.parse(
    gunzipSync(Buffer.from(event.awslogs.data, 'base64')).toString('utf8'),
  ) as CloudWatchLogsDecodedData;
  if (data.messageType !== 'DATA_MESSAGE') return [];
  return data.logEvents
    .filter((line) => {
      try {
        return (JSON.parse(line.message) as { message?: unknown }).message === AUDIT_MESSAGE;
      } catch {
        return false;
      }
    })
    .map((line) => ({ timestamp: line.timestamp, message: line.message }))
    .sort((a, b) => a.timestamp - b.timestamp);
}

/** PutLogEvents takes at most 10,000 events and 1,048,576 bytes (each event counts 26 more). */
const MAX_BATCH_EVENTS = 10_000;
const MAX_BATCH_BYTES = 1_048_576;
const EVENT_OVERHEAD_BYTES = 26;

/** Splits events into batches PutLogEvents accepts. */
export function batchesOf(events: readonly AuditEvent[]): AuditEvent[][] {
  const batches: AuditEvent[][] = [];
  let batch: AuditEvent[] = [];
  let bytes = 0;
  for (const event of events) {
    const size = Buffer.byteLength(event.message) + EVENT_OVERHEAD_BYTES;
    if (batch.length > 0 && (batch.length === MAX_BATCH_EVENTS || bytes + size > MAX_BATCH_BYTES)) {
      batches.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(event);
    bytes += size;
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}

export interface AuditForwarderOptions {
  readonly logs: Pick<CloudWatchLogsClient, 'send'>;
  /** The audit log group (longer retention than the proxy's). */
  readonly logGroupName: string;
}

/**
 * Copies the proxy's audit lines into the audit log group, each under its original timestamp,
 * in one log stream per forwarder container (created on first use). A failed put throws, so
 * CloudWatch Logs delivers the batch again: a line may then be written twice, never lost.
 */
export function createAuditForwarder(options: AuditForwarderOptions) {
  const streamName = `${new Date().toISOString().slice(0, 10)}/${randomUUID()}`;
  let streamReady: Promise<void> | undefined;
  const ensureStream = async (): Promise<void> => {
    try {
      await options.logs.send(
        new CreateLogStreamCommand({
          logGroupName: options.logGroupName,
          logStreamName: streamName,
        }),
      );
    } catch (error) {
      if (!(error instanceof ResourceAlreadyExistsException)) {
        streamReady = undefined;
        throw error;
      }
    }
  };
  return async (event: CloudWatchLogsEvent): Promise<{ forwarded: number }> => {
    const events = auditEventsOf(event);
    if (events.length === 0) return { forwarded: 0 };
    streamReady ??= ensureStream();
    await streamReady;
    for (const batch of batchesOf(events)) {
      await options.logs.send(
        new PutLogEventsCommand({
          logGroupName: options.logGroupName,
          logStreamName: streamName,
          logEvents: batch,
        }),
      );
    }
    return { forwarded: events.length };
  };
}
