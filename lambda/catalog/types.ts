import type { ZodType } from 'zod';

/**
 * How much an operation can do to the device cloud. Authorization (the partner policy) reads it:
 * `credential` and `admin` operations are granted only by exact name, never through a wildcard.
 * - `read`: returns data, changes nothing.
 * - `write`: changes device-cloud data (create, update, remove, claim, release, invoke).
 * - `credential`: returns secrets: IAM credentials, private keys, certificates or signed URLs.
 * - `admin`: manages accounts or users, or acts across the account boundary.
 */
export type Sensitivity = 'read' | 'write' | 'credential' | 'admin';

/**
 * The shape of the successful answer a partner receives in `data`.
 * - `record`: one JSON object.
 * - `list`: a JSON array (paged operations are always lists).
 * - `string`: a JSON string (signed URLs).
 * - `none`: Ioto documents no answer; partners get `data: null`.
 */
export type ResponseKind = 'record' | 'list' | 'string' | 'none';

/**
 * Where an operation names the Ioto account or device it acts on. The partner policy uses this
 * to scope requests to a partner's own accounts and devices (see the authorization issue).
 */
export interface OperationScope {
  /**
   * The body field that selects the target account for an owner-level (CloudAPI) caller:
   * `accountId` on most operations, `id` on the Account controller, `none` where the operation
   * is not account-addressed (cloud-level data such as actions and metric lists).
   */
  readonly account: 'accountId' | 'id' | 'none';
  /** The body field naming the device the operation acts on, if any. */
  readonly device?: 'id' | 'deviceId';
}

/** The Ioto call a catalog operation is forwarded to, when it is not the operation itself. */
export interface UpstreamTranslation {
  readonly controller: string;
  readonly operation: string;
  /** Turns the validated partner body into the Ioto body. */
  readonly body: (input: Record<string, unknown>) => Record<string, unknown>;
  /**
   * Query-string options for the Ioto call: `exists: null` asks generic/update to upsert
   * (ioto-api.md §2.4). Encoded by `lambda/paging/upstream-query.ts`.
   */
  readonly query?: { readonly exists?: boolean | null };
}

/** One Ioto HTTP operation, as data. The catalog is the single list of these. */
export interface OperationDefinition {
  /** Controller name exactly as Ioto spells it (`device`, `generic`, ...). */
  readonly controller: string;
  /** Operation name exactly as Ioto spells it (`find`, `getCreds`, ...). */
  readonly operation: string;
  /** One line for the API docs. */
  readonly summary: string;
  /**
   * Strict zod schema of the JSON body, without the paging fields (`limit`, `pageToken`), which
   * the proxy adds to every paged operation. Unknown keys are rejected except where Ioto
   * documents free attributes (Generic items, provision/update device properties).
   */
  readonly request: ZodType<Record<string, unknown>>;
  /** Ioto answers with `{data, next, prev}` pages and accepts `limit`/`next`/`prev`. */
  readonly paged: boolean;
  readonly response: ResponseKind;
  /**
   * Every Ioto call is a POST, so idempotency is per operation: true when repeating the call
   * after a lost answer cannot change the outcome (reads, absolute updates).
   */
  readonly retrySafe: boolean;
  readonly sensitivity: Sensitivity;
  /**
   * Whether the call can change the device cloud or hand out something that can (credentials,
   * signed URLs, invites). Read-only partners may call only operations where this is false.
   */
  readonly mutates: boolean;
  readonly scope: OperationScope;
  /** Set when the operation is offered over REST by translation (Store over Generic). */
  readonly upstream?: UpstreamTranslation;
}

/** `controller/operation`, the key of an operation in the catalog and in partner policies. */
export type OperationKey = `${string}/${string}`;
