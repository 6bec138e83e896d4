import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

/**
 * How the Ioto client sends one POST. Node's `http`/`https` rather than `fetch`: the Fetch
 * standard makes `fetch` add headers of its own (`accept-language: *`, `sec-fetch-mode: cors`,
 * `accept-encoding`), and Ioto must receive exactly the headers the proxy chooses. Node adds only
 * what HTTP/1.1 itself needs: `host`, `content-length` and `connection`. Redirects are never
 * followed (node's client has no such feature), so a 3xx is an answer like any other.
 */

/** An answer whose body has not been read yet. */
export interface TransportResponse {
  readonly status: number;
  /** A response header, by name in any letter case. */
  header(name: string): string | undefined;
  /**
   * The body, at most `limit` bytes: larger, the transfer is cut at once and the promise
   * rejects with {@link BodyTooLargeError}; cut off by the peer, it rejects with another error.
   */
  read(limit: number): Promise<Buffer>;
  /** Drops the body (the connection is not reused). */
  discard(): void;
}

export interface TransportRequest {
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** Aborts the exchange (connecting, sending, or reading the answer). */
  readonly signal: AbortSignal;
}

/** Sends one POST and resolves with the answer's status and headers. */
export type Transport = (url: URL, request: TransportRequest) => Promise<TransportResponse>;

/** The answer is larger than the caller accepts. */
export class BodyTooLargeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BodyTooLargeError';
  }
}

/**
 * Connections to Ioto are kept alive between invocations of a warm function: no TCP and TLS
 * handshake per call. One agent per protocol, shared by every client of the process.
 */
const AGENTS = {
  'http:': new HttpAgent({ keepAlive: true }),
  'https:': new HttpsAgent({ keepAlive: true }),
} as const;

function responseOf(res: IncomingMessage): TransportResponse {
  return {
    status: res.statusCode ?? 0,
    header: (name) => {
      const value = res.headers[name.toLowerCase()];
      return Array.isArray(value) ? value.join(', ') : value;
    },
    read: (limit) =>
      new Promise((resolve, reject) => {
        const declared = Number(res.headers['content-length'] ?? Number.NaN);
        if (declared > limit) {
          res.destroy();
          reject(new BodyTooLargeError(`Ioto reply of ${declared} bytes is over the cap`));
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > limit) {
            res.destroy();
            reject(new BodyTooLargeError('Ioto reply is over the size cap'));
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () => resolve(Buffer.concat(chunks)));
        res.on('error', reject);
        res.on('close', () => {
          if (!res.complete) reject(new Error('Ioto reply was cut off'));
        });
      }),
    discard: () => {
      res.destroy();
    },
  };
}

/** The transport over Node's HTTP client, with keep-alive connections. */
export const nodeTransport: Transport = (url, request) =>
  new Promise((resolve, reject) => {
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const agent = url.protocol === 'https:' ? AGENTS['https:'] : AGENTS['http:'];
    const req = send(
      url,
      {
        method: 'POST',
        agent,
        headers: { ...request.headers, 'content-length': Buffer.byteLength(request.body) },
        signal: request.signal,
      },
      (res) => resolve(responseOf(res)),
    );
    req.on('error', reject);
    req.end(request.body);
  });
