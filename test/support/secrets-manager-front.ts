import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An error as an AWS JSON 1.1 service (Secrets Manager) puts it on the wire: the status, and a
 * body `{"__type": ..., "message": ...}` the SDK turns into the modelled exception.
 */
export interface AwsJsonError {
  readonly status: number;
  readonly type: string;
  readonly message: string;
}

/** Which calls a fault or a hold applies to: an operation, and optionally one SecretId. */
export interface CallMatch {
  /** e.g. `GetSecretValue` (the `X-Amz-Target` after `secretsmanager.`). */
  readonly operation: string;
  readonly secretId?: string;
}

/** One HTTP request the front received: one SDK attempt. */
export interface FrontRequest {
  readonly operation: string;
  readonly secretId: string | undefined;
  /** `moto` when forwarded, `fault` when the front answered it with an injected error. */
  readonly answeredBy: 'moto' | 'fault';
  readonly status: number;
}

interface PendingFault extends CallMatch {
  remaining: number;
  readonly error: AwsJsonError;
}

interface PendingHold extends CallMatch {
  readonly arrived: () => void;
  readonly gate: Promise<void>;
  readonly release: () => void;
}

const matches = (match: CallMatch, operation: string, secretId: string | undefined) =>
  match.operation === operation && (match.secretId === undefined || match.secretId === secretId);

const readBody = (req: IncomingMessage): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });

/**
 * A loopback HTTP front for moto's Secrets Manager: forwards every request unchanged (headers,
 * `Host` included, so SigV4 signatures still verify) and records it, unless a fault was armed
 * for it, then it answers as AWS would, with the error's JSON body. moto cannot throttle, and
 * its IAM layer answers JSON services in XML; the front produces both failures in AWS's own
 * wire form. It also counts SDK attempts (one request each), which moto does not.
 */
export async function startSecretsManagerFront(motoEndpoint: string) {
  const target = new URL(motoEndpoint);
  const requests: FrontRequest[] = [];
  const faults: PendingFault[] = [];
  const holds: PendingHold[] = [];
  /** Releases of the calls being held now. */
  const held = new Set<() => void>();

  const answerFault = (res: ServerResponse, error: AwsJsonError) => {
    const body = JSON.stringify({ __type: error.type, message: error.message });
    res.writeHead(error.status, {
      'content-type': 'application/x-amz-json-1.1',
      'content-length': Buffer.byteLength(body),
      'x-amzn-requestid': randomUUID(),
    });
    res.end(body);
  };

  const forward = (req: IncomingMessage, body: Buffer, res: ServerResponse) =>
    new Promise<number>((resolve) => {
      const upstream = request(
        {
          host: target.hostname,
          port: target.port,
          method: req.method,
          path: req.url,
          headers: req.headers,
        },
        (reply) => {
          res.writeHead(reply.statusCode ?? 502, reply.headers);
          reply.pipe(res);
          reply.on('end', () => resolve(reply.statusCode ?? 502));
        },
      );
      upstream.on('error', () => {
        res.destroy();
        resolve(0);
      });
      upstream.end(body);
    });

  const server = createServer(async (req, res) => {
    const body = await readBody(req);
    const amzTarget = String(req.headers['x-amz-target'] ?? '');
    const operation = amzTarget.replace(/^secretsmanager\./, '');
    let secretId: string | undefined;
    try {
      secretId = (JSON.parse(body.toString('utf8')) as { SecretId?: string }).SecretId;
    } catch {
      // Not a JSON call (moto's own API): forwarded as is.
    }
    const hold = holds.find((h) => matches(h, operation, secretId));
    if (hold !== undefined) {
      holds.splice(holds.indexOf(hold), 1);
      held.add(hold.release);
      hold.arrived();
      await hold.gate;
      held.delete(hold.release);
    }
    const fault = faults.find((f) => f.remaining > 0 && matches(f, operation, secretId));
    if (fault !== undefined) {
      fault.remaining -= 1;
      if (fault.remaining === 0) faults.splice(faults.indexOf(fault), 1);
      answerFault(res, fault.error);
      requests.push({ operation, secretId, answeredBy: 'fault', status: fault.error.status });
      return;
    }
    const status = await forward(req, body, res);
    requests.push({ operation, secretId, answeredBy: 'moto', status });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    /** Every request received (one per SDK attempt), in arrival order. */
    requests: requests as readonly FrontRequest[],
    /** Requests (SDK attempts) matching `match`, however they were answered. */
    attempts: (match: CallMatch) =>
      requests.filter((r) => matches(match, r.operation, r.secretId)).length,
    /** Answers the next `count` calls matching `match` with `error` instead of forwarding. */
    failNext(count: number, error: AwsJsonError, match: CallMatch) {
      faults.push({ ...match, remaining: count, error });
    },
    /** Faults armed and not yet served. */
    pendingFaults: () => faults.reduce((sum, f) => sum + f.remaining, 0),
    /**
     * Holds the next call matching `match` until `release()`: `arrived` resolves once it came
     * in. A held call is then answered as any other (forwarded, or an armed fault).
     */
    holdNext(match: CallMatch) {
      let arrived = () => {};
      let release = () => {};
      const arrival = new Promise<void>((resolve) => {
        arrived = resolve;
      });
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      holds.push({ ...match, arrived, gate, release });
      return { arrived: arrival, release };
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const hold of holds.splice(0)) hold.release();
        for (const release of held) release();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export type SecretsManagerFront = Awaited<ReturnType<typeof startSecretsManagerFront>>;
