import type { APIGatewayProxyEvent } from 'aws-lambda';
import { IdempotencyKeyRequiredError, ValidationError } from '../problems/problem-error';
import { headerValue } from '../proxy/headers';

/** The request header a partner names a write's idempotency key in (IETF draft-ietf-httpapi-idempotency-key-header). */
export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';

/** The response header of an answer replayed from the idempotency store. */
export const IDEMPOTENT_REPLAYED_HEADER = 'idempotent-replayed';

/** 1 to 255 characters that cannot smuggle anything into a header, a log line or a store key. */
const KEY = /^[A-Za-z0-9._:-]{1,255}$/;

/**
 * The `Idempotency-Key` of a write, if it carries one (the header in any letter case, sent once).
 * A malformed key is 400 `validation_failed`; a missing one is 400 `idempotency_key_required`
 * when the partner must send one.
 */
export function idempotencyKeyOf(
  event: Pick<APIGatewayProxyEvent, 'headers' | 'multiValueHeaders'>,
  required: boolean,
): string | undefined {
  const repeated = Object.entries(event.multiValueHeaders ?? {}).some(
    ([name, values]) => name.toLowerCase() === IDEMPOTENCY_KEY_HEADER && (values?.length ?? 0) > 1,
  );
  const key = headerValue(event.headers, IDEMPOTENCY_KEY_HEADER);
  if (repeated || (key !== undefined && !KEY.test(key))) {
    throw new ValidationError([
      {
        path: `header ${IDEMPOTENCY_KEY_HEADER}`,
        message: 'must be sent once, as 1 to 255 characters of A-Z a-z 0-9 . _ : -',
      },
    ]);
  }
  if (key === undefined && required) throw new IdempotencyKeyRequiredError();
  return key;
}
