import { randomBytes, timingSafeEqual } from 'node:crypto';
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { UpstreamQuery } from '../../lambda/paging/upstream-query';
import {
  checkOrigin,
  checkSwitch,
  pagingRequest,
  presentedToken,
  SIMULATOR_AUTH_SCHEMES,
  SIMULATOR_CURSORS,
  SIMULATOR_ENVELOPES,
  type SimulatorAuthScheme,
  type SimulatorCursors,
  type SimulatorEnvelope,
  shapeAnswer,
} from './dialect';
import { SimulatorError } from './errors';
import {
  type Fault,
  FaultQueue,
  MALFORMED_BODY,
  oversizeParts,
  type SimulatorFaults,
} from './faults';
import { OPERATIONS } from './handlers';
import type { JsonObject } from './operation';
import { isJsonObject } from './request-fields';
import { SimulatorState } from './state';
import { decodeUpstreamQuery } from './upstream-query';

/** How to start an {@link IotoSimulator}. */
export interface SimulatorOptions {
  /**
   * The CloudAPI token to accept.
   * @default a random 48-character hex string
   */
  readonly token?: string;
  /**
   * The port to listen on (always on 127.0.0.1).
   * @default 0, an ephemeral port
   */
  readonly port?: number;
  /**
   * How 200 answers are wrapped: `reference`, `wrapped-records` (every answer that is not a
   * page as `{data: <answer>}`) or `bare-lists` (pages as bare arrays). See
   * {@link SimulatorEnvelope}.
   * @default 'reference'
   */
  readonly envelope?: SimulatorEnvelope;
  /**
   * Paging cursors: `key-objects` on the query string, or `opaque-strings` taken back only in
   * the body. See {@link SimulatorCursors}.
   * @default 'key-objects'
   */
  readonly cursors?: SimulatorCursors;
  /**
   * Accepted `Authorization` forms: `either`, `raw` or `bearer`. See {@link SimulatorAuthScheme}.
   * @default 'either'
   */
  readonly authScheme?: SimulatorAuthScheme;
  /**
   * When set, every `/tok/` request must carry exactly this `Origin` (the older Ioto overview
   * asks for one on every request, docs/ioto-api.md §2.2): otherwise 403 `Origin not allowed`.
   * @default none: `Origin` is ignored
   */
  readonly requiredOrigin?: string;
}

/** One request as the simulator received it, for assertions. */
export interface RecordedRequest {
  readonly method: string;
  /** The path without the query string, e.g. `/tok/device/find`. */
  readonly path: string;
  /** Set when the path has the shape `/tok/{controller}/{operation}` (known or not). */
  readonly controller?: string;
  readonly operation?: string;
  /** The query decoded with `decodeUpstreamQuery`; `{}` when it does not decode. */
  readonly query: UpstreamQuery;
  /** The query string as sent, without the leading `?` (`''` when there is none). */
  readonly rawQuery: string;
  /** The parsed JSON body, the raw text when it is not JSON, `undefined` when empty. */
  readonly body: unknown;
  /** Whether the request carried the token accepted at the time. */
  readonly authorized: boolean;
  /** Lower-cased header names; credential headers hold `[redacted]`. */
  readonly headers: Readonly<Record<string, string>>;
}

type MutableRecordedRequest = { -readonly [K in keyof RecordedRequest]: RecordedRequest[K] };

interface Reply {
  readonly status: number;
  readonly headers: OutgoingHttpHeaders;
  readonly body: string;
}

type BodyRead =
  | { readonly kind: 'complete'; readonly bytes: Buffer }
  | { readonly kind: 'too-large'; readonly size: number }
  | { readonly kind: 'aborted' };

/** Bodies above this are 400 (the brief's limit; Ioto documents none). */
const MAX_BODY_BYTES = 1024 * 1024;
/** Past this the simulator stops draining an oversized body and drops the connection. */
const MAX_DRAIN_BYTES = 16 * MAX_BODY_BYTES;
/** Recorded requests kept; tests reset long before this, a long demo run forgets the oldest. */
const MAX_RECORDED_REQUESTS = 10_000;
const OVERSIZE_CHUNK_BYTES = 64 * 1024;
const TOK_PATH = /^\/tok\/([^/]+)\/([^/]+)$/;
/** Headers never recorded in clear: the token must not leak into test output. */
const REDACTED_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie']);

const randomToken = (): string => randomBytes(24).toString('hex');

function checkToken(token: string): string {
  if (token === '' || /[\s\p{Cc}]/u.test(token)) {
    throw new RangeError('token must be a non-empty string without whitespace');
  }
  return token;
}

/** Ioto's error shape: `text/plain` holding the message (ref §2.8, §7). */
const textReply = (status: number, message: string, extra: OutgoingHttpHeaders = {}): Reply => ({
  status,
  headers: { 'content-type': 'text/plain', ...extra },
  body: message,
});

const jsonReply = (text: string): Reply => ({
  status: 200,
  headers: { 'content-type': 'application/json' },
  body: text,
});

function recordHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const recorded: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    recorded[name] = REDACTED_HEADERS.has(name)
      ? '[redacted]'
      : Array.isArray(value)
        ? value.join(', ')
        : value;
  }
  return recorded;
}

function recordBody(read: BodyRead): unknown {
  if (read.kind === 'too-large') return `[${read.size} bytes not recorded]`;
  if (read.kind === 'aborted' || read.bytes.length === 0) return undefined;
  const text = read.bytes.toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** Reads the body, keeping at most {@link MAX_BODY_BYTES}; never rejects. */
function readBody(req: IncomingMessage): Promise<BodyRead> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
      else if (size > MAX_DRAIN_BYTES) req.socket.destroy();
    });
    req.on('end', () =>
      resolve(
        size > MAX_BODY_BYTES
          ? { kind: 'too-large', size }
          : { kind: 'complete', bytes: Buffer.concat(chunks) },
      ),
    );
    req.on('error', () => resolve({ kind: 'aborted' }));
    req.on('close', () => resolve({ kind: 'aborted' }));
  });
}

/** Resolves once the response can take more data, or has closed. */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/**
 * An in-memory EmbedThis Ioto device cloud on loopback, speaking the CloudAPI-token dialect of
 * the Ioto REST API (docs/ioto-api.md): `POST /tok/{controller}/{operation}` with a JSON body.
 * A test double for integration tests and the demo upstream of `npm start`. It never writes
 * to the console.
 */
export class IotoSimulator {
  /** Base URL without a trailing slash, e.g. `http://127.0.0.1:41234`. */
  readonly endpoint: string;
  /** Failure injection; see {@link SimulatorFaults}. */
  readonly faults: SimulatorFaults;

  private readonly server: Server;
  private readonly faultQueue: FaultQueue;
  private readonly recorded: RecordedRequest[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly waits = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();
  private state = new SimulatorState();
  private currentToken: string;
  private closing: Promise<void> | undefined;
  private envelopeStyle: SimulatorEnvelope = 'reference';
  private cursorStyle: SimulatorCursors = 'key-objects';
  private authSchemeStyle: SimulatorAuthScheme = 'either';
  private origin: string | undefined;

  private constructor(server: Server, endpoint: string, token: string) {
    this.server = server;
    this.endpoint = endpoint;
    this.currentToken = token;
    this.faultQueue = new FaultQueue();
    this.faults = this.faultQueue;
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      // A client that vanishes mid-request must not crash or print anything.
      socket.on('error', () => undefined);
    });
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      this.handle(req, res).catch(() => res.destroy());
    });
  }

  /** Starts a simulator listening on 127.0.0.1 only. */
  static async start(options: SimulatorOptions = {}): Promise<IotoSimulator> {
    const token = checkToken(options.token ?? randomToken());
    const server = createServer();
    server.on('clientError', (_error, socket) => socket.destroy());
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: '127.0.0.1', port: options.port ?? 0 }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const { port } = server.address() as AddressInfo;
    const simulator = new IotoSimulator(server, `http://127.0.0.1:${port}`, token);
    try {
      if (options.envelope !== undefined) simulator.envelope = options.envelope;
      if (options.cursors !== undefined) simulator.cursors = options.cursors;
      if (options.authScheme !== undefined) simulator.authScheme = options.authScheme;
      simulator.requiredOrigin = options.requiredOrigin;
    } catch (error) {
      await simulator.close();
      throw error;
    }
    return simulator;
  }

  /**
   * How 200 answers are wrapped from now on ({@link SimulatorEnvelope}); kept by `reset()`,
   * like the token.
   */
  get envelope(): SimulatorEnvelope {
    return this.envelopeStyle;
  }

  set envelope(value: SimulatorEnvelope) {
    this.envelopeStyle = checkSwitch('envelope', value, SIMULATOR_ENVELOPES);
  }

  /** Paging cursors from now on ({@link SimulatorCursors}); kept by `reset()`. */
  get cursors(): SimulatorCursors {
    return this.cursorStyle;
  }

  set cursors(value: SimulatorCursors) {
    this.cursorStyle = checkSwitch('cursors', value, SIMULATOR_CURSORS);
  }

  /** Accepted `Authorization` forms from now on ({@link SimulatorAuthScheme}); kept by `reset()`. */
  get authScheme(): SimulatorAuthScheme {
    return this.authSchemeStyle;
  }

  set authScheme(value: SimulatorAuthScheme) {
    this.authSchemeStyle = checkSwitch('authScheme', value, SIMULATOR_AUTH_SCHEMES);
  }

  /** The `Origin` every request must carry, or undefined for none; kept by `reset()`. */
  get requiredOrigin(): string | undefined {
    return this.origin;
  }

  set requiredOrigin(value: string | undefined) {
    this.origin = checkOrigin(value);
  }

  /** The CloudAPI token accepted now. */
  get token(): string {
    return this.currentToken;
  }

  /** Every request received, in arrival order, rejected ones included. */
  get requests(): readonly RecordedRequest[] {
    return this.recorded;
  }

  /**
   * Replaces the accepted token, as when a CloudAPI token is replaced in the Builder
   * (ref §2.2); the old one is rejected from now on. Returns the new token.
   */
  rotateToken(next?: string): string {
    this.currentToken = checkToken(next ?? randomToken());
    return this.currentToken;
  }

  /**
   * Restores the seed data and clears faults and recorded requests; keeps the token and the
   * switches (`envelope`, `cursors`, `authScheme`, `requiredOrigin`).
   */
  reset(): void {
    this.state = new SimulatorState();
    this.faultQueue.clear();
    this.recorded.length = 0;
  }

  /** Stops listening and destroys every open socket; pending delays end at once. */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      for (const wait of this.waits) {
        clearTimeout(wait.timer);
        wait.resolve();
      }
      this.waits.clear();
      this.server.close(() => resolve());
      this.server.closeAllConnections();
      for (const socket of this.sockets) socket.destroy();
    });
    return this.closing;
  }

  /**
   * The token check (ref §2.2): `Authorization: <token>` as documented, or
   * `Authorization: bearer <token>` as the agent and samples send it (scheme case-insensitive);
   * `authScheme` may narrow that to one of the two.
   */
  private accepts(header: string | undefined): boolean {
    const presented = presentedToken(header, this.authSchemeStyle);
    if (presented === undefined) return false;
    const given = Buffer.from(presented, 'utf8');
    const expected = Buffer.from(this.currentToken, 'utf8');
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    const mark = url.indexOf('?');
    const path = mark < 0 ? url : url.slice(0, mark);
    const rawQuery = mark < 0 ? '' : url.slice(mark + 1);
    let query: UpstreamQuery = {};
    let queryError: unknown;
    try {
      query = decodeUpstreamQuery(rawQuery);
    } catch (error) {
      queryError = error;
    }
    const route = TOK_PATH.exec(path);
    const record: MutableRecordedRequest = {
      method: req.method ?? '',
      path,
      ...(route?.[1] !== undefined && { controller: route[1] }),
      ...(route?.[2] !== undefined && { operation: route[2] }),
      query,
      rawQuery,
      body: undefined,
      authorized: this.accepts(req.headers.authorization),
      headers: recordHeaders(req.headers),
    };
    this.recorded.push(record);
    // `npm start` runs the simulator for hours: keep the recent past, not every request.
    if (this.recorded.length > MAX_RECORDED_REQUESTS) this.recorded.shift();

    const read = await readBody(req);
    record.body = recordBody(read);
    if (read.kind === 'aborted' || this.closing !== undefined) {
      res.destroy();
      return;
    }
    const operation =
      record.controller === undefined ? undefined : `${record.controller}/${record.operation}`;
    const fault = path.startsWith('/tok/') ? this.faultQueue.take(operation) : undefined;
    if (fault !== undefined) {
      await this.wait(operation);
      await this.applyFault(fault, req, res);
      return;
    }
    // The reply is serialized now, before any delay, so it shows the state at request time.
    const reply = this.reply(req, record, read, queryError);
    await this.wait(operation);
    this.send(res, reply);
  }

  /** The answer to a request that no fault intercepted. */
  private reply(
    req: IncomingMessage,
    record: RecordedRequest,
    read: BodyRead,
    queryError: unknown,
  ): Reply {
    if (!record.authorized) return textReply(403, 'Authentication failed');
    if (this.origin !== undefined && req.headers.origin !== this.origin) {
      return textReply(403, 'Origin not allowed');
    }
    // Every Ioto operation is a POST (ref §2.1).
    if (record.method !== 'POST') return textReply(405, 'Method not allowed', { allow: 'POST' });
    const handler = OPERATIONS.get(`${record.controller}/${record.operation}`);
    if (record.controller === undefined || handler === undefined) {
      return textReply(404, 'Not found');
    }
    if (read.kind !== 'complete') return textReply(400, 'Request body too large');
    const body = this.parseBody(req, read.bytes);
    if (typeof body === 'string') return textReply(400, body);
    if (queryError !== undefined) {
      return textReply(400, queryError instanceof SyntaxError ? 'Invalid cursor' : 'Invalid query');
    }
    try {
      const result = handler(this.state, pagingRequest(body, record.query, this.cursorStyle));
      // An undocumented answer is an empty body that still says application/json, as an API
      // Gateway Lambda proxy would: clients must not parse a 200 body blindly (ref §10.12).
      return result.kind === 'empty'
        ? { status: 200, headers: { 'content-type': 'application/json' }, body: '' }
        : jsonReply(
            JSON.stringify(shapeAnswer(result.value, this.envelopeStyle, this.cursorStyle)),
          );
    } catch (error) {
      if (error instanceof SimulatorError) return textReply(error.status, error.message);
      // Ioto's "service error" (ref §2.8); the cause is never sent or logged.
      return textReply(500, 'Internal server error');
    }
  }

  /**
   * The JSON object body, or the error message. Bodies are JSON (ref §2.1); an empty body is
   * `{}` because the agent calls device/getCreds with none (ref §3.5).
   */
  private parseBody(req: IncomingMessage, bytes: Buffer): JsonObject | string {
    if (bytes.length === 0) return {};
    const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
    if (type !== 'application/json') return 'Content-Type must be application/json';
    let parsed: unknown;
    try {
      parsed = JSON.parse(bytes.toString('utf8'));
    } catch {
      return 'Invalid JSON body';
    }
    return isJsonObject(parsed) ? parsed : 'Request body must be a JSON object';
  }

  private send(res: ServerResponse, reply: Reply): void {
    if (res.destroyed || this.closing !== undefined) {
      res.destroy();
      return;
    }
    res.writeHead(reply.status, {
      ...reply.headers,
      'content-length': Buffer.byteLength(reply.body),
    });
    res.end(reply.body);
  }

  private async applyFault(fault: Fault, req: IncomingMessage, res: ServerResponse): Promise<void> {
    switch (fault.kind) {
      case 'fail':
        this.send(res, textReply(fault.status, fault.body));
        return;
      case 'redirect':
        this.send(res, textReply(302, 'Found', { location: fault.location }));
        return;
      case 'json':
        this.send(res, {
          status: fault.status,
          headers: { 'content-type': 'application/json' },
          body: fault.body,
        });
        return;
      case 'reset':
        req.socket.destroy();
        return;
      case 'malformed':
        this.send(res, jsonReply(MALFORMED_BODY));
        return;
      case 'oversize':
        await this.sendOversize(res, fault.bytes);
        return;
    }
  }

  /** Streams a valid JSON body of exactly `bytes` bytes, honouring back-pressure. */
  private async sendOversize(res: ServerResponse, bytes: number): Promise<void> {
    if (res.destroyed || this.closing !== undefined) {
      res.destroy();
      return;
    }
    const { head, fill, tail } = oversizeParts(bytes);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': bytes });
    res.write(head);
    const chunk = 'x'.repeat(Math.min(fill, OVERSIZE_CHUNK_BYTES));
    for (let left = fill; left > 0; left -= chunk.length) {
      if (res.destroyed) return;
      const piece = left >= chunk.length ? chunk : chunk.slice(0, left);
      if (!res.write(piece)) await drained(res);
    }
    if (!res.destroyed) res.end(tail);
  }

  /** Waits `faults.delayMs` and the operation's own delay; `close()` ends every pending wait. */
  private wait(operation: string | undefined): Promise<void> {
    const ms = this.faultQueue.delayOf(operation);
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const wait = {
        timer: setTimeout(() => {
          this.waits.delete(wait);
          resolve();
        }, ms),
        resolve,
      };
      this.waits.add(wait);
    });
  }
}
