import {
  IdempotencyItemAlreadyExistsError,
  IdempotencyItemNotFoundError,
  IdempotencyRecordStatus,
} from '@aws-lambda-powertools/idempotency';
import {
  BasePersistenceLayer,
  IdempotencyRecord,
} from '@aws-lambda-powertools/idempotency/persistence';

/**
 * The idempotency store of `npm start` and of tests that need no DynamoDB: the records in a
 * Map, with the semantics of Powertools' DynamoDB layer (its conditional put): a key can be
 * taken when it is free, when its record has expired, or when an in-progress record outlived
 * its caller's deadline. Records are dropped once expired, so the Map does not grow without
 * bound (at most the writes of one window).
 */
export class InMemoryPersistenceLayer extends BasePersistenceLayer {
  readonly #records = new Map<string, IdempotencyRecord>();
  #sweptAt = 0;

  protected override async _putRecord(record: IdempotencyRecord): Promise<void> {
    this.#sweep();
    const existing = this.#records.get(record.idempotencyKey);
    const now = Date.now();
    const free =
      existing === undefined ||
      (existing.expiryTimestamp !== undefined && existing.expiryTimestamp < now / 1000) ||
      (existing.getStatus() === IdempotencyRecordStatus.INPROGRESS &&
        existing.inProgressExpiryTimestamp !== undefined &&
        existing.inProgressExpiryTimestamp < now);
    if (!free) {
      throw new IdempotencyItemAlreadyExistsError(
        `Failed to put record for already existing idempotency key: ${record.idempotencyKey}`,
        existing,
      );
    }
    this.#records.set(record.idempotencyKey, record);
  }

  protected override async _getRecord(idempotencyKey: string): Promise<IdempotencyRecord> {
    const record = this.#records.get(idempotencyKey);
    if (record === undefined) throw new IdempotencyItemNotFoundError();
    return record;
  }

  protected override async _updateRecord(record: IdempotencyRecord): Promise<void> {
    const existing = this.#records.get(record.idempotencyKey);
    this.#records.set(
      record.idempotencyKey,
      new IdempotencyRecord({
        idempotencyKey: record.idempotencyKey,
        status: record.getStatus(),
        expiryTimestamp: record.expiryTimestamp,
        inProgressExpiryTimestamp: existing?.inProgressExpiryTimestamp,
        responseData: record.responseData,
        payloadHash: record.payloadHash,
      }),
    );
  }

  protected override async _deleteRecord(record: IdempotencyRecord): Promise<void> {
    this.#records.delete(record.idempotencyKey);
  }

  /** How many records it holds (tests). */
  get size(): number {
    return this.#records.size;
  }

  /** Drops expired records, at most once a minute. */
  #sweep(): void {
    if (Date.now() - this.#sweptAt < 60_000) return;
    this.#sweptAt = Date.now();
    const now = Date.now() / 1000;
    for (const [key, record] of this.#records) {
      if (record.expiryTimestamp !== undefined && record.expiryTimestamp < now) {
        this.#records.delete(key);
      }
    }
  }
}
