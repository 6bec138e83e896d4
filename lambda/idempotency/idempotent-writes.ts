import {
  IdempotencyAlreadyInProgressError,
  IdempotencyConfig,
  IdempotencyValidationError,
  makeIdempotent,
} from '@aws-lambda-powertools/idempotency';
import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyResult, Context } from 'aws-lambda';
import {
  IdempotencyInProgressError,
  IdempotencyKeyReusedError,
  IdempotencyUnavailableError,
} from '../problems/problem-error';

/** One write a partner sent with an `Idempotency-Key`. */
export interface IdempotentWrite {
  readonly partnerId: string;
  /** `controller/operation`: part of what must match on a repeat. */
  readonly operation: string;
  readonly key: string;
  /** The validated body: what must match on a repeat (its hash is stored, never the body). */
  readonly fields: Readonly<Record<string, unknown>>;
  /**
   * How long this call may still run. A record left in progress longer than that (its caller
   * died) no longer blocks the key.
   */
  readonly remainingMs: number;
}

/** What a write came to: the answer, and whether it was replayed from the store. */
export interface WriteOutcome {
  readonly response: APIGatewayProxyResult;
  readonly replayed: boolean;
}

/** Runs `forward` at most once per partner and key within the window (see the README). */
export type IdempotentWrites = (
  write: IdempotentWrite,
  forward: () => Promise<APIGatewayProxyResult>,
) => Promise<WriteOutcome>;

export interface IdempotentWritesOptions {
  /** Where records live: DynamoDB when deployed, memory under `npm start`. */
  readonly persistence: BasePersistenceLayer;
  /** How long an answer is kept for replay (`IDEMPOTENCY_WINDOW_SECONDS`). */
  readonly windowSeconds: number;
  readonly logger: Logger;
}

/**
 * Idempotent writes on Powertools for AWS Lambda Idempotency: the record is keyed by a hash of
 * the partner id and the key (so partners never share keys), and the stored payload hash covers
 * the operation and the validated body, so the same key with another request is 422
 * `idempotency_key_reused`. The first call writes an in-progress record (a conditional put);
 * a repeat while it runs is 409 `idempotency_in_progress`; a successful answer is stored
 * (status, headers, body) and replayed for the window; a call that fails (any problem, any
 * exception) leaves no record, so a retry with the same key forwards again.
 */
export function createIdempotentWrites(options: IdempotentWritesOptions): IdempotentWrites {
  const config = new IdempotencyConfig({
    eventKeyJmesPath: 'key',
    payloadValidationJmesPath: 'request',
    expiresAfterSeconds: options.windowSeconds,
    hashFunction: 'sha256',
    throwOnNoIdempotencyKey: true,
  });
  return async (write, forward) => {
    // What Powertools reads to date an in-progress record (Lambda's own context when deployed).
    config.registerLambdaContext({
      getRemainingTimeInMillis: () => write.remainingMs,
    } as Context);
    let forwarded: APIGatewayProxyResult | undefined;
    let failed: { readonly error: unknown } | undefined;
    const once = async (payload: unknown) =>
      makeIdempotent(
        async (_payload: unknown): Promise<APIGatewayProxyResult> => {
          try {
            forwarded = await forward();
          } catch (error) {
            failed = { error };
            throw error;
          }
          // Stored as is: status, headers and body, so a replay is the same answer.
          return forwarded;
        },
        { persistenceStore: options.persistence, config, keyPrefix: 'ioto-bff' },
      )(payload);
    try {
      const response = (await once({
        key: [write.partnerId, write.key],
        request: { operation: write.operation, fields: write.fields },
      })) as APIGatewayProxyResult;
      return { response, replayed: forwarded === undefined };
    } catch (error) {
      if (failed !== undefined) {
        // The call itself failed: that is the answer (its in-progress record is deleted, so a
        // retry forwards; if even the delete failed, the record lapses with the call's time).
        if (error !== failed.error) {
          options.logger.error('idempotency record not deleted after a failed write', { error });
        }
        throw failed.error;
      }
      if (error instanceof IdempotencyValidationError) throw new IdempotencyKeyReusedError();
      if (error instanceof IdempotencyAlreadyInProgressError) {
        throw new IdempotencyInProgressError();
      }
      if (forwarded !== undefined) {
        // Ioto did the write but its answer could not be stored: tell the partner the truth.
        // Until the in-progress record lapses a repeat gets 409; after that it forwards again.
        options.logger.error('idempotency record not saved after a forwarded write', {
          operation: write.operation,
          error,
        });
        return { response: forwarded, replayed: false };
      }
      throw new IdempotencyUnavailableError({ cause: error });
    }
  };
}
