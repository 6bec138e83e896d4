import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';

/** How to get moto's server: the suites that need it fail with this, they never skip. */
export const MOTO_INSTALL_HINT =
  "moto_server is not on the PATH. Install moto's server (Python 3.9+): pip install 'moto[server]'";

export interface MotoServer {
  /** e.g. `http://127.0.0.1:43121`: every AWS service moto mocks answers here. */
  readonly endpoint: string;
  /** The server's process id (stopped by this id only). */
  readonly pid: number;
  /**
   * Turns moto's IAM enforcement on (`POST /moto-api/reset-auth` with 0): from now on every AWS
   * call must be signed with an access key of a moto IAM user, whose policies are evaluated.
   */
  enforceIam(): Promise<void>;
  /** Turns IAM enforcement off again (the default: any credentials, every action allowed). */
  relaxIam(): Promise<void>;
  /** Creates an IAM user with an access key (call it while IAM is not enforced). */
  createIamUser(
    name: string,
    inlinePolicy?: object,
  ): Promise<{ accessKeyId: string; secretAccessKey: string }>;
  /** Stops the server by its pid and waits until the process has exited. */
  stop(): Promise<void>;
}

export interface StartMotoOptions {
  /** How long to wait for the server to answer (default 20 s; it starts in about 1 to 3 s). */
  readonly startTimeoutMs?: number;
}

/** A free TCP port on loopback: a server on port 0, closed, and its port handed on. */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The last lines of the server's output, for failure messages. */
const tail = (output: string[]) => output.join('').split('\n').slice(-15).join('\n');

/**
 * Starts `moto_server -H 127.0.0.1 -p <free port>` and waits, bounded, until it answers HTTP.
 * A missing `moto_server` fails with {@link MOTO_INSTALL_HINT}. The port is free when chosen;
 * should another process take it before moto binds, the start is tried again on a new port.
 */
export async function startMotoServer(options: StartMotoOptions = {}): Promise<MotoServer> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt += 1) {
    try {
      return await startOnce(await freeLoopbackPort(), options.startTimeoutMs ?? 20_000);
    } catch (error) {
      if (error instanceof PortTakenError) {
        lastError = error;
        continue;
      }
      throw error;
    }
  }
  throw lastError;
}

class PortTakenError extends Error {}

async function startOnce(port: number, startTimeoutMs: number): Promise<MotoServer> {
  const endpoint = `http://127.0.0.1:${port}`;
  const output: string[] = [];
  const child = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    // Unbuffered, so a start failure shows moto's own words.
    env: { ...process.env, PYTHONUNBUFFERED: '1' },
  });
  const keep = (chunk: Buffer) => {
    output.push(chunk.toString('utf8'));
    if (output.length > 200) output.splice(0, output.length - 200);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  });
  let failure: Error | undefined;
  child.once('error', (error: NodeJS.ErrnoException) => {
    failure =
      error.code === 'ENOENT'
        ? new Error(`${MOTO_INSTALL_HINT} (spawn moto_server: ENOENT)`)
        : new Error(`moto_server could not be started: ${error.message}`);
  });
  child.once('exit', (code, signal) => {
    const text = tail(output);
    failure ??= /address already in use/i.test(text)
      ? new PortTakenError(`port ${port} was taken before moto_server bound it`)
      : new Error(`moto_server exited (${code ?? signal}) before answering:\n${text}`);
  });

  const deadline = Date.now() + startTimeoutMs;
  for (;;) {
    if (failure !== undefined) throw failure;
    if (Date.now() > deadline) {
      await stopChild(child, exited);
      throw new Error(
        `moto_server did not answer on ${endpoint} within ${startTimeoutMs} ms:\n${tail(output)}`,
      );
    }
    try {
      const response = await fetch(`${endpoint}/moto-api/reset-auth`, {
        method: 'GET',
        signal: AbortSignal.timeout(1_000),
      });
      // moto answers this GET with 400 and this text, and changes nothing; anything else on
      // the port is not our moto.
      if ((await response.text()).includes('reset Moto Auth')) break;
    } catch {
      // Not listening yet.
    }
    await sleep(50);
  }
  if (child.pid === undefined) throw new Error('moto_server has no process id');
  const pid = child.pid;

  const resetAuth = async (count: string) => {
    const response = await fetch(`${endpoint}/moto-api/reset-auth`, {
      method: 'POST',
      body: count,
    });
    if (!response.ok) throw new Error(`moto reset-auth answered ${response.status}`);
    await response.body?.cancel();
  };

  return {
    endpoint,
    pid,
    enforceIam: () => resetAuth('0'),
    relaxIam: () => resetAuth('inf'),
    createIamUser: async (name, inlinePolicy) => {
      await iamQuery(endpoint, { Action: 'CreateUser', UserName: name });
      if (inlinePolicy !== undefined) {
        await iamQuery(endpoint, {
          Action: 'PutUserPolicy',
          UserName: name,
          PolicyName: `${name}-inline`,
          PolicyDocument: JSON.stringify(inlinePolicy),
        });
      }
      const xml = await iamQuery(endpoint, { Action: 'CreateAccessKey', UserName: name });
      const accessKeyId = /<AccessKeyId>([^<]+)</.exec(xml)?.[1];
      const secretAccessKey = /<SecretAccessKey>([^<]+)</.exec(xml)?.[1];
      if (accessKeyId === undefined || secretAccessKey === undefined) {
        throw new Error('moto CreateAccessKey answered without a key');
      }
      return { accessKeyId, secretAccessKey };
    },
    stop: () => stopChild(child, exited),
  };
}

/**
 * One call of IAM's query protocol. The project has no IAM SDK client; moto routes the call by
 * the credential scope, and checks no signature while IAM enforcement is off.
 */
async function iamQuery(endpoint: string, params: Record<string, string>): Promise<string> {
  const response = await fetch(`${endpoint}/`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
      authorization:
        'AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0',
    },
    body: new URLSearchParams({ Version: '2010-05-08', ...params }).toString(),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`moto IAM ${params.Action} answered ${response.status}`);
  return text;
}

/** SIGTERM by pid, SIGKILL after 5 s, and wait for the exit either way. */
async function stopChild(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}
