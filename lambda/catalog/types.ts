import type { ZodMiniType } from '../config/zod';
import type { RecordName } from './records';

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
 * The role Ioto's reference states for an operation (docs/ioto-api.md §2.3, the Role column of
 * §3). A CloudAPI token is always `owner`, so this is not a check the proxy makes: it says what
 * the operation was written for. `device` and `upgrade` operations are made for a device's own
 * token (the device comes from the caller); what they do with an owner token is undocumented,
 * so they are granted only by exact name. `public` (user/login) follows a Cognito login.
 */
export type IotoRole =
  | 'public'
  | 'user'
  | 'admin'
  | 'device'
  | 'claimDevice'
  | 'releaseDevice'
  | 'upgrade';

/**
 * The shape of the successful answer a partner receives in `data`.
 * - `record`: one JSON object.
 * - `list`: a JSON array (paged operations are always lists).
 * - `string`: a JSON string (signed URLs).
 * - `none`: Ioto documents no answer; partners get `data: null`.
 */
export type ResponseKind = 'record' | 'list' | 'string' | 'none';

/**
 * A place in a request body, from the top: object keys, and `[]` for every element of an array.
 * `['items', '[]', 'dimensions', 'Device']` is the `Device` of every metric request's dimensions;
 * `[]` is the body itself.
 */
export type BodyPath = readonly string[];

/**
 * How the policy confirms that the devices an operation names are the partner's.
 * - `lookup`: a `device/get` with the partner's own account, before the call.
 * - `unclaimed`: the device is in no account yet (device/claim); only the allow-list applies.
 * - `call`: the call itself is confined to the partner's account and its answer is checked on
 *   the way back (device/get, device/find), so a lookup would only repeat it.
 */
export type DeviceOwnership = 'lookup' | 'unclaimed' | 'call';

/**
 * Whether Ioto documents that the account selector confines the call to that account.
 * - `documented`: a source says so (`source`: where, in docs/ioto-api.md terms).
 * - `gateway`: the selector is the gateway's own, for operations Ioto does not address by
 *   account (device-side ones that name a device): it picks the one account the device ownership
 *   check uses (`source` says how that confines the call) and is never sent to Ioto. A partner
 *   with several accounts must name one, so a request costs one check per device.
 * - `assumed`: only the Account page's "most APIs" and the proxy's reading suggest it. If Ioto
 *   ignored the selector, the owner token would act in another account than the partner's, so
 *   such operations are never granted through a wildcard, need the partner's acknowledgement
 *   (`acceptAssumedScope`), and every record they answer must name the partner's account at
 *   `answer` (each item of a list), or the partner gets a 502 and the operator an alarm.
 */
export type AccountScoping =
  | { readonly basis: 'documented'; readonly source: string }
  | { readonly basis: 'assumed'; readonly answer: BodyPath }
  | { readonly basis: 'gateway'; readonly source: string };

/**
 * Every place an operation's body names an Ioto account or device, at any depth. The partner
 * policy enforces each one (OWASP API1: the CloudAPI token is an owner key over every tenant),
 * and a catalog test checks the declarations against the request schemas, so a field cannot be
 * added without being declared here.
 */
export interface OperationScope {
  /**
   * Where the body selects the account the call acts on for an owner-level (CloudAPI) caller
   * (docs/ioto-api.md §2.3): `['accountId']` on most operations, `['id']` on the Account controller,
   * `['context', 'accountId']` on action/invoke. The policy sets it to the partner's account, or
   * checks the one named. Absent where the operation is not account-addressed.
   */
  readonly account?: BodyPath;
  /** Whether Ioto documents what `account` does; given exactly when `account` is. */
  readonly accountScoping?: AccountScoping;
  /** Every place where the body names a device by its id (claim ID). */
  readonly devices?: readonly BodyPath[];
  /** How the devices are confirmed to be the partner's. @default 'lookup' */
  readonly deviceOwnership?: DeviceOwnership;
  /**
   * Free-form JSON (objects with free keys, and values typed only as JSON): inside each, at any
   * depth, a key `deviceId`, `deviceIds`, `Device` (a metric dimension), `devices` or
   * `accountId`, `accountIds` (in any letter case) names a device or an account.
   */
  readonly freeForm?: readonly BodyPath[];
  /**
   * The field that names the automated action the call runs (action/invoke): the partner's
   * `actions` must list it by exact name.
   */
  readonly action?: 'name';
}

/** The Ioto call a catalog operation is forwarded to, when it is not the operation itself. */
export interface UpstreamTranslation {
  readonly controller: string;
  readonly operation: string;
  /** Turns the validated partner body into the Ioto body. */
  readonly body: (input: Record<string, unknown>) => Record<string, unknown>;
  /**
   * Query-string options for the Ioto call: `exists: null` asks generic/update to upsert
   * (docs/ioto-api.md §2.4). Encoded by `lambda/paging/upstream-query.ts`.
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
  readonly request: ZodMiniType<Record<string, unknown>>;
  /** Ioto answers with `{data, next, prev}` pages and accepts `limit`/`next`/`prev`. */
  readonly paged: boolean;
  readonly response: ResponseKind;
  /**
   * The record Ioto documents for the answer (records.ts): `data` itself, or each item of a
   * list. Given on every offered operation whose response is not `none` (withdrawn ones have
   * no place in the API description). The API description publishes it; the proxy does not
   * check answers against it.
   */
  readonly record?: RecordName;
  /**
   * Every Ioto call is a POST, so idempotency is per operation: true when repeating the call
   * after a lost answer cannot change the outcome (reads, absolute updates).
   */
  readonly retrySafe: boolean;
  /** The role the reference states for the operation (see {@link IotoRole}). */
  readonly iotoRole: IotoRole;
  readonly sensitivity: Sensitivity;
  /**
   * Whether the call can change the device cloud or hand out something that can (credentials,
   * signed URLs, invites). Read-only partners may call only operations where this is false.
   */
  readonly mutates: boolean;
  readonly scope: OperationScope;
  /**
   * Ioto may report a failure of this operation inside a JSON answer, as `{error}` (with `delay`
   * seconds when it asks the caller to wait), whatever the status (docs/ioto-api.md §2.8, open
   * question §10.5). Such an answer is a failure for the partner, never a 200.
   */
  readonly errorInBody?: true;
  /**
   * Why the partner API does not offer this Ioto operation, when it does not: it is kept here so
   * the catalog still lists every Ioto HTTP operation, but it has no route, no grant and no
   * place in the API description (`withdrawnOperations` in index.ts).
   */
  readonly withdrawn?: string;
  /** Set when the operation is offered over REST by translation (Store over Generic). */
  readonly upstream?: UpstreamTranslation;
}

/**
 * An operation as a catalog file declares it: like {@link OperationDefinition}, but the request
 * schema is given as the function that builds it. The catalog (index.ts) builds each schema on
 * its first use and keeps it, so a cold start builds the one schema its first call needs, not
 * all of them (zod's schema construction was a third of the proxy's module load: `npm run bench`).
 */
export type OperationDeclaration = Omit<OperationDefinition, 'request'> & {
  readonly request: () => OperationDefinition['request'];
};

/** `controller/operation`, the key of an operation in the catalog and in partner policies. */
export type OperationKey = `${string}/${string}`;
