import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Secrets Manager and AppConfig's data plane as the real SDK meets them over HTTP, for
 * `npm run bench`: the AWS JSON 1.1 `GetSecretValue` (version stages honoured, a stage no
 * version carries is ResourceNotFoundException as AWS answers) and AppConfigData's REST
 * `StartConfigurationSession` and `GetLatestConfiguration`. It counts every call, so the bench
 * reports reads from what reached the wire, not from a mock inside the process.
 */
export interface AwsFakes {
  /** `AWS_ENDPOINT_URL_SECRETS_MANAGER` and `AWS_ENDPOINT_URL_APPCONFIGDATA` for the SDK. */
  readonly env: Readonly<Record<string, string>>;
  /** GetSecretValue calls per `SecretId` (and stage, when one was asked: `id@STAGE`). */
  readonly secretReads: ReadonlyMap<string, number>;
  /** GetLatestConfiguration calls. */
  readonly configurationReads: () => number;
  close(): Promise<void>;
}

export interface AwsFakesOptions {
  /** Secret id → its AWSCURRENT value. */
  readonly secrets: Readonly<Record<string, string>>;
  /** The access configuration AppConfig serves. */
  readonly configuration: string;
}

const read = async (request: IncomingMessage): Promise<string> => {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
};

const json = (response: ServerResponse, status: number, type: string, body: unknown) => {
  response.writeHead(status, { 'content-type': type }).end(JSON.stringify(body));
};

export async function startAwsFakes(options: AwsFakesOptions): Promise<AwsFakes> {
  const secretReads = new Map<string, number>();
  let configurationReads = 0;
  const server: Server = createServer((request, response) => {
    void (async () => {
      const body = await read(request);
      const target = request.headers['x-amz-target'];
      if (target === 'secretsmanager.GetSecretValue') {
        const input = JSON.parse(body) as { SecretId: string; VersionStage?: string };
        const key = input.VersionStage ? `${input.SecretId}@${input.VersionStage}` : input.SecretId;
        secretReads.set(key, (secretReads.get(key) ?? 0) + 1);
        const value = options.secrets[input.SecretId];
        const stage = input.VersionStage ?? 'AWSCURRENT';
        if (value === undefined || stage !== 'AWSCURRENT') {
          json(response, 400, 'application/x-amz-json-1.1', {
            __type: 'ResourceNotFoundException',
            Message: "Secrets Manager can't find the specified secret value for staging label",
          });
          return;
        }
        json(response, 200, 'application/x-amz-json-1.1', {
          ARN: `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${input.SecretId}-AbCdEf`,
          Name: input.SecretId,
          VersionId: '00000000-0000-4000-8000-000000000001',
          SecretString: value,
          VersionStages: ['AWSCURRENT'],
          CreatedDate: 1_767_225_600,
        });
        return;
      }
      if (request.method === 'POST' && request.url === '/configurationsessions') {
        json(response, 201, 'application/json', { InitialConfigurationToken: randomUUID() });
        return;
      }
      if (request.method === 'GET' && request.url?.startsWith('/configuration?')) {
        configurationReads += 1;
        response
          .writeHead(200, {
            'content-type': 'application/json',
            'next-poll-configuration-token': randomUUID(),
            'next-poll-interval-in-seconds': '60',
            'version-label': '1',
          })
          .end(options.configuration);
        return;
      }
      json(response, 400, 'application/json', {
        message: `unexpected ${request.method} ${request.url}`,
      });
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    env: {
      AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoint,
      AWS_ENDPOINT_URL_APPCONFIGDATA: endpoint,
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'bench',
      AWS_SECRET_ACCESS_KEY: 'bench',
    },
    secretReads,
    configurationReads: () => configurationReads,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
