import {
  CreateSecretCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
// The SDK's own retry strategy (a dependency of every v3 client), with a fixed pause instead of
// the default jitter of up to 1 s, then 2 s, after a throttling error.
import { ConfiguredRetryStrategy } from '@smithy/core/retry';

/** Region and credentials of every moto client; moto accepts any while IAM is not enforced. */
export const MOTO_REGION = 'eu-west-1';
export const MOTO_CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' } as const;

export interface MotoClientOptions {
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** SDK attempts per call (the SDK default, 3, unless told). */
  readonly maxAttempts?: number;
  /** The pause before each SDK retry; the SDK's default backoff when left out. */
  readonly retryDelayMs?: number;
}

/** A real Secrets Manager client (the SDK the Lambda bundles) pointed at `endpoint`. */
export function secretsManagerClientFor(
  endpoint: string,
  options: MotoClientOptions = {},
): SecretsManagerClient {
  const maxAttempts = options.maxAttempts ?? 3;
  return new SecretsManagerClient({
    endpoint,
    region: MOTO_REGION,
    credentials: options.credentials ?? MOTO_CREDENTIALS,
    ...(options.retryDelayMs === undefined
      ? { maxAttempts }
      : { retryStrategy: new ConfiguredRetryStrategy(maxAttempts, options.retryDelayMs) }),
  });
}

export interface CommandCall {
  /** e.g. `GetSecretValueCommand` */
  readonly command: string;
  readonly secretId: string | undefined;
  /** The `VersionStage` a GetSecretValue named, if any. */
  readonly versionStage: string | undefined;
  /** `Date.now()` when the call was sent. */
  readonly at: number;
}

/**
 * Counts the calls `client` sends, one per command whatever its retries (an `initialize`-step
 * middleware, the outermost step, so SDK retries are not counted: the front counts attempts).
 */
export function recordCommands(client: SecretsManagerClient) {
  const calls: CommandCall[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { SecretId?: unknown; VersionStage?: unknown };
      calls.push({
        command: context.commandName ?? 'unknown',
        secretId: typeof input.SecretId === 'string' ? input.SecretId : undefined,
        versionStage: typeof input.VersionStage === 'string' ? input.VersionStage : undefined,
        at: Date.now(),
      });
      return next(args);
    },
    { step: 'initialize', name: 'recordCommandsForTests' },
  );
  return {
    calls: calls as readonly CommandCall[],
    /** GetSecretValue calls, of one secret when `secretId` is given. */
    reads: (secretId?: string) =>
      calls.filter(
        (c) =>
          c.command === 'GetSecretValueCommand' &&
          (secretId === undefined || c.secretId === secretId),
      ),
  };
}

/** Creates a secret through the real API and returns its ARN. */
export async function createSecret(
  client: SecretsManagerClient,
  name: string,
  secretString: string,
): Promise<string> {
  const created = await client.send(
    new CreateSecretCommand({ Name: name, SecretString: secretString }),
  );
  if (created.ARN === undefined) throw new Error(`CreateSecret of ${name} answered no ARN`);
  return created.ARN;
}

/**
 * Writes a new version of a secret, as an operator's put-secret-value does: it becomes
 * AWSCURRENT unless `versionStages` names other stages (AWSPENDING, to stage a key). Returns
 * the new version's id.
 */
export async function putSecretValue(
  client: SecretsManagerClient,
  secretId: string,
  value: string | Uint8Array,
  options: { readonly versionStages?: string[] } = {},
): Promise<string> {
  const put = await client.send(
    new PutSecretValueCommand({
      SecretId: secretId,
      ...(typeof value === 'string' ? { SecretString: value } : { SecretBinary: value }),
      ...(options.versionStages && { VersionStages: options.versionStages }),
    }),
  );
  if (put.VersionId === undefined) throw new Error('PutSecretValue answered no VersionId');
  return put.VersionId;
}

/**
 * Moves a staging label to a version, takes it off one, or both, as the operator's
 * update-secret-version-stage does (moving AWSCURRENT needs `removeFrom`, its version now).
 */
export async function updateSecretVersionStage(
  client: SecretsManagerClient,
  secretId: string,
  stage: string,
  versions: { readonly moveTo?: string; readonly removeFrom?: string },
): Promise<void> {
  await client.send(
    new UpdateSecretVersionStageCommand({
      SecretId: secretId,
      VersionStage: stage,
      ...(versions.moveTo !== undefined && { MoveToVersionId: versions.moveTo }),
      ...(versions.removeFrom !== undefined && { RemoveFromVersionId: versions.removeFrom }),
    }),
  );
}

/**
 * The staging labels of every version of a secret, by version id, from ListSecretVersionIds:
 * what the operator's list-secret-version-ids shows, and no value.
 */
export async function versionStagesOf(
  client: SecretsManagerClient,
  secretId: string,
): Promise<Record<string, string[]>> {
  const listed = await client.send(new ListSecretVersionIdsCommand({ SecretId: secretId }));
  return Object.fromEntries(
    (listed.Versions ?? []).map((v) => [v.VersionId ?? '', v.VersionStages ?? []]),
  );
}
