import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:dgram';
import { getXrayTraceDataFromEnv } from '@aws-lambda-powertools/commons/utils/env';
import type { TracingSettings } from '../config/env';
import type { Transport, TransportResponse } from '../upstream/http-transport';

/**
 * AWS X-Ray for the proxy and the docs function without the X-Ray SDK: the subsegments the
 * Powertools Tracer would record (the handler, each AWS SDK call, the Ioto call), written as
 * X-Ray segment documents to the X-Ray daemon over UDP, as the SDK does. Decision 0033: the
 * SDK (aws-xray-sdk-core with semver and cls-hooked, 118 KiB of the bundle) cost more cold-start
 * time and bundle size than the whole rest of the proxy, and its async hooks ran on every
 * promise, traced or not.
 *
 * What is sent (X-Ray Developer Guide, "AWS X-Ray segment documents"): each subsegment on its
 * own, once it ends, as `{"format": "json", "version": 1}\n{document}`, with `trace_id` and
 * `parent_id` from the invocation's trace header (`_X_AMZN_TRACE_ID`, or the invoke store on
 * Lambda's multi-concurrency runtimes), `type: "subsegment"`, start and end in epoch seconds.
 * - `## <function>`: the invocation, annotated `ColdStart` and `Service` as Powertools does;
 *   `fault`, `error` or `throttle` by the status of the answer;
 * - `<service id>` (namespace `aws`): every call of an SDK client given to
 *   {@link XRayTracer.instrumentAwsClient}, with `aws.operation`, `aws.region`,
 *   `aws.request_id`, `aws.retries` and the HTTP status;
 * - `<host>` (namespace `remote`): every Ioto call through {@link XRayTracer.traceTransport},
 *   with method, URL without query and status, ending when the answer has been read.
 * Nothing else: no request or answer body, no header, no error message, so neither the Ioto
 * token nor partner data can reach a trace.
 *
 * Sending nothing is the default: only when tracing is on (`POWERTOOLS_TRACE_DISABLED` is not
 * true), the daemon's address is known (`AWS_XRAY_DAEMON_ADDRESS`, set by Lambda when active
 * tracing is on; both read by `readTracingEnv` in lambda/config/env.ts) and the invocation is
 * sampled.
 */

/** One subsegment being recorded. */
export interface TraceSubsegment {
  readonly name: string;
  readonly id: string;
  readonly traceId: string;
  readonly parentId: string;
  readonly startTime: number;
  namespace?: 'aws' | 'remote';
  annotations?: Record<string, string | number | boolean>;
  http?: {
    request?: { method: string; url: string };
    response?: { status: number };
  };
  aws?: Record<string, string | number>;
  error?: boolean;
  fault?: boolean;
  throttle?: boolean;
}

export interface XRayTracerOptions extends TracingSettings {
  /** The invocation's trace header fields. @default the environment's or the invoke store's */
  readonly traceData?: () => Record<string, string> | undefined;
  /** Epoch milliseconds, for tests. @default Date.now */
  readonly now?: () => number;
}

/** An SDK v3 middleware of the `initialize` step, as the tracer writes it. */
type InitializeMiddleware = (
  next: (args: unknown) => Promise<unknown>,
  context: { commandName?: string },
) => (args: unknown) => Promise<unknown>;

/** The part of an AWS SDK v3 client the tracer instruments (any client fits). */
export interface InstrumentableClient {
  readonly config: { readonly serviceId?: string; readonly region?: unknown };
  /** The client's middleware stack: its `add` is overloaded per step, which no structural type names. */
  readonly middlewareStack: { add(...args: never[]): void };
}

const HEADER = '{"format":"json","version":1}\n';
const newId = () => randomBytes(8).toString('hex');

/** The UDP `host:port` of a daemon address (`host:port`, or `tcp:host:port udp:host:port`). */
export function udpAddressOf(daemonAddress: string): { host: string; port: number } | undefined {
  const udp = daemonAddress.split(/\s+/).find((part) => part.startsWith('udp:'));
  const address = (udp ?? daemonAddress).replace(/^udp:/, '');
  const match = /^(.+):(\d{1,5})$/.exec(address);
  if (match === null || match[1] === undefined || match[2] === undefined) return undefined;
  const port = Number(match[2]);
  return port > 0 && port < 65_536 ? { host: match[1], port } : undefined;
}

/** The segment document of a finished subsegment (X-Ray's field names). */
export function segmentDocument(subsegment: TraceSubsegment, endTime: number): string {
  const { name, id, traceId, parentId, startTime, ...rest } = subsegment;
  return JSON.stringify({
    name,
    id,
    trace_id: traceId,
    parent_id: parentId,
    type: 'subsegment',
    start_time: startTime,
    end_time: endTime,
    ...rest,
  });
}

/** The client's region: a resolved SDK config holds it as a provider (memoized by the SDK). */
async function regionOf(client: InstrumentableClient): Promise<string | undefined> {
  const region = client.config.region;
  const value = typeof region === 'function' ? await (region as () => unknown)() : region;
  return typeof value === 'string' ? value : undefined;
}

/** Flags of a subsegment by an HTTP status, as X-Ray reads them. */
function markStatus(subsegment: TraceSubsegment, status: number): void {
  if (status === 429) subsegment.throttle = true;
  if (status >= 400 && status < 500) subsegment.error = true;
  if (status >= 500) subsegment.fault = true;
}

export class XRayTracer {
  readonly #enabled: boolean;
  readonly #serviceName: string;
  readonly #address: { host: string; port: number } | undefined;
  readonly #traceData: () => Record<string, string> | undefined;
  readonly #now: () => number;
  readonly #current = new AsyncLocalStorage<TraceSubsegment>();
  #socket: Socket | undefined;
  #coldStart = true;

  constructor(options: XRayTracerOptions) {
    this.#enabled = options.enabled;
    this.#serviceName = options.serviceName;
    this.#address =
      options.daemonAddress === undefined ? undefined : udpAddressOf(options.daemonAddress);
    this.#traceData = options.traceData ?? getXrayTraceDataFromEnv;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Wraps a Lambda handler: each invocation is the subsegment `## <function name>`, the parent
   * of every subsegment recorded while it runs, sent when it ends.
   */
  traceHandler<E, R, C extends { functionName?: string }>(
    handler: (event: E, context: C) => Promise<R>,
  ): (event: E, context: C) => Promise<R> {
    return async (event, context) => {
      const coldStart = this.#coldStart;
      this.#coldStart = false;
      const trace = this.#address === undefined || !this.#enabled ? undefined : this.#traceData();
      if (trace?.Root === undefined || trace.Parent === undefined || trace.Sampled !== '1') {
        return handler(event, context);
      }
      const subsegment: TraceSubsegment = {
        name: `## ${context.functionName ?? 'handler'}`,
        id: newId(),
        traceId: trace.Root,
        parentId: trace.Parent,
        startTime: this.#now() / 1000,
        annotations: { ColdStart: coldStart, Service: this.#serviceName },
      };
      try {
        const result = await this.#current.run(subsegment, () => handler(event, context));
        const status = (result as { statusCode?: unknown } | undefined)?.statusCode;
        if (typeof status === 'number') markStatus(subsegment, status);
        return result;
      } catch (error) {
        subsegment.fault = true;
        throw error;
      } finally {
        this.#send(subsegment);
      }
    };
  }

  /**
   * Records every call `client` makes as a subsegment named after its service (the SDK's
   * `serviceId`, as the X-Ray SDK names them), and returns the client.
   */
  instrumentAwsClient<T extends InstrumentableClient>(client: T): T {
    const add = client.middlewareStack.add.bind(client.middlewareStack) as unknown as (
      middleware: InitializeMiddleware,
      options: { step: 'initialize'; name: string },
    ) => void;
    add(
      (next, context) => async (args) => {
        const subsegment = this.#child(client.config.serviceId ?? 'AWS', 'aws');
        if (subsegment === undefined) return next(args);
        subsegment.aws = { operation: (context.commandName ?? '').replace(/Command$/, '') };
        try {
          const output = (await next(args)) as {
            output?: {
              $metadata?: { httpStatusCode?: number; requestId?: string; attempts?: number };
            };
          };
          const metadata = output.output?.$metadata ?? {};
          this.#describeAwsCall(subsegment, await regionOf(client), metadata);
          return output;
        } catch (error) {
          const metadata = (error as { $metadata?: Record<string, unknown> }).$metadata ?? {};
          this.#describeAwsCall(subsegment, await regionOf(client), metadata);
          if (subsegment.http?.response === undefined) subsegment.fault = true;
          throw error;
        } finally {
          this.#send(subsegment);
        }
      },
      { step: 'initialize', name: 'ioto-bff-xray' },
    );
    return client;
  }

  /** Records every exchange of `transport` as a subsegment named after the host called. */
  traceTransport(transport: Transport): Transport {
    return async (url, request) => {
      const subsegment = this.#child(url.hostname, 'remote');
      if (subsegment === undefined) return transport(url, request);
      subsegment.http = { request: { method: 'POST', url: `${url.origin}${url.pathname}` } };
      let response: TransportResponse;
      try {
        response = await transport(url, request);
      } catch (error) {
        subsegment.fault = true;
        this.#send(subsegment);
        throw error;
      }
      subsegment.http.response = { status: response.status };
      markStatus(subsegment, response.status);
      let ended = false;
      const end = () => {
        if (!ended) this.#send(subsegment);
        ended = true;
      };
      return {
        status: response.status,
        header: (name) => response.header(name),
        read: (limit) => response.read(limit).finally(end),
        discard: () => {
          response.discard();
          end();
        },
      };
    };
  }

  /** A subsegment of the current invocation's, or undefined when it is not traced. */
  #child(name: string, namespace: 'aws' | 'remote'): TraceSubsegment | undefined {
    const parent = this.#current.getStore();
    if (parent === undefined) return undefined;
    return {
      name,
      id: newId(),
      traceId: parent.traceId,
      parentId: parent.id,
      startTime: this.#now() / 1000,
      namespace,
    };
  }

  #describeAwsCall(
    subsegment: TraceSubsegment,
    region: string | undefined,
    metadata: { httpStatusCode?: unknown; requestId?: unknown; attempts?: unknown },
  ): void {
    if (region !== undefined) subsegment.aws = { ...subsegment.aws, region };
    if (typeof metadata.requestId === 'string') {
      subsegment.aws = { ...subsegment.aws, request_id: metadata.requestId };
    }
    if (typeof metadata.attempts === 'number') {
      subsegment.aws = { ...subsegment.aws, retries: metadata.attempts - 1 };
    }
    if (typeof metadata.httpStatusCode === 'number') {
      subsegment.http = { response: { status: metadata.httpStatusCode } };
      markStatus(subsegment, metadata.httpStatusCode);
    }
  }

  /** Sends a finished subsegment to the daemon; a lost datagram loses only a trace. */
  #send(subsegment: TraceSubsegment): void {
    const address = this.#address;
    if (address === undefined) return;
    const message = Buffer.from(HEADER + segmentDocument(subsegment, this.#now() / 1000));
    if (this.#socket === undefined) {
      // Loaded with the first traced invocation, not at cold start (untraced functions never).
      this.#socket = process.getBuiltinModule('node:dgram').createSocket('udp4');
      this.#socket.unref();
      this.#socket.on('error', () => undefined);
    }
    this.#socket.send(message, address.port, address.host, () => undefined);
  }
}
