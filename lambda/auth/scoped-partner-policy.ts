import type { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { hasAssumedScope, isScopable } from '../catalog/grants';
import { operationKey } from '../catalog/index';
import type { BodyPath, OperationDefinition } from '../catalog/types';
import {
  AccountNotAllowedError,
  ActionNotAllowedError,
  DeviceNotAllowedError,
  OperationNotAllowedError,
  UnauthorizedError,
  UpstreamError,
  UpstreamRejectedError,
  ValidationError,
} from '../problems/problem-error';
import type { UpstreamCall } from '../upstream/ioto-client';
import { findReferences } from './body-references';
import { authorizationHolds } from './identity-fingerprint';
import type { Partner, PartnerDirectory } from './partner-directory';

/**
 * What the proxy logs when Ioto answers with data outside a partner's scope. The stack's
 * monitoring counts this exact message (a metric filter) and alarms on it.
 */
export const SCOPE_VIOLATION_MESSAGE =
  'scope violation: Ioto returned data outside the partner scope';

/** A call the policy has admitted so far: who makes it, and for which account. */
export interface PartnerCall {
  readonly partner: Partner;
  readonly operation: OperationDefinition;
  /** The account the call is confined to, once `scope` has run (if the operation names one). */
  readonly account?: string;
}

/**
 * What the policy needs of Ioto: one call, for device-ownership checks, answered with the reply's
 * data as the proxy reads every Ioto reply (bare or in the `{data}` envelope, shape-checked by the
 * operation's response kind: `normalizeReply`).
 */
export type IotoCaller = (call: UpstreamCall) => Promise<unknown>;

/**
 * The partner policy between validation and the token. All steps deny by default:
 * 1. `authorize`: identify the partner (from the authorizer context) and check the operation is
 *    granted (OWASP API5, function level);
 * 2. `scope`: on the raw body, before validation, set or check the account the call acts on
 *    (API1, object level), so no value of another type or shape can slip through a schema;
 * 3. `confirm`: on the validated body, check the action name (action/invoke), every other
 *    account the body names, and every device it names at any depth (the catalog's scope
 *    declaration): against the allow-list, then through Ioto with the partner's own account;
 * 4. `conceal`: answer Ioto's refusal of a tenant-scoped call neutrally, so that no message
 *    tells another tenant's object from a missing one;
 * 5. `filter`: on the way back, drop what lies outside the scope (it should never happen); for
 *    operations whose account scoping is assumed, refuse the whole answer (502) unless every
 *    record names the partner's account.
 */
export interface PartnerPolicy {
  authorize(operation: OperationDefinition, event: APIGatewayProxyEvent): PartnerCall;
  scope(call: PartnerCall, body: unknown): { readonly call: PartnerCall; readonly body: unknown };
  confirm(
    call: PartnerCall,
    fields: Readonly<Record<string, unknown>>,
    signal?: AbortSignal,
  ): Promise<void>;
  conceal(call: PartnerCall, error: unknown): unknown;
  filter(call: PartnerCall, data: unknown): unknown;
}

/**
 * The one answer to every refusal Ioto gives a tenant-scoped call, and to a record of another
 * tenant: "Device already claimed" and "Cannot find device" must not be told apart.
 */
export const NEUTRAL_REJECTION_DETAIL =
  'Ioto could not act on the request: what it names does not exist or is not available to you.';

const neutralRejection = (cause: unknown): UpstreamRejectedError =>
  new UpstreamRejectedError({ detail: NEUTRAL_REJECTION_DETAIL, cause });

/**
 * Distinct devices one request may name. Each costs an ownership check through Ioto, so an
 * unbounded list would turn one partner request into as many Ioto calls as it likes.
 */
export const MAX_DEVICES_PER_REQUEST = 50;
/** Ownership checks in flight at once for one request. */
const OWNERSHIP_CHECK_CONCURRENCY = 4;
/** Device ids are Ioto identifiers (catalog `identifier`): 1 to 128 characters. */
const MAX_DEVICE_ID_LENGTH = 128;

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** The partner id API Gateway passes from the authorizer's context. */
const partnerIdOf = (event: APIGatewayProxyEvent): unknown =>
  (event.requestContext?.authorizer as Record<string, unknown> | null | undefined)?.partnerId;

/**
 * What `body` holds at `path` (object keys only): `present` and the value, or undefined when
 * something on the way is not an object (validation refuses that body).
 */
function lookUp(
  body: Record<string, unknown>,
  path: BodyPath,
): { readonly present: boolean; readonly value?: unknown } | undefined {
  let container = body;
  for (const [index, key] of path.entries()) {
    if (!Object.hasOwn(container, key)) return { present: false };
    const value = container[key];
    if (index === path.length - 1) return { present: true, value };
    if (!isPlainObject(value)) return undefined;
    container = value;
  }
  return undefined;
}

/** A copy of `body` with `value` at `path`, creating the objects missing on the way. */
function withValueAt(
  body: Record<string, unknown>,
  path: BodyPath,
  value: string,
): Record<string, unknown> {
  const [head, ...rest] = path;
  if (head === undefined) return body;
  if (rest.length === 0) return { ...body, [head]: value };
  const inner = Object.hasOwn(body, head) ? body[head] : {};
  return { ...body, [head]: withValueAt(isPlainObject(inner) ? inner : {}, rest, value) };
}

/** Runs `check` over `items`, a few at a time; false as soon as one check is false. */
async function everyConfirmed(
  items: readonly string[],
  check: (item: string) => Promise<boolean>,
): Promise<boolean> {
  let next = 0;
  let confirmed = true;
  const worker = async () => {
    while (confirmed && next < items.length) {
      const item = items[next] as string;
      next += 1;
      if (!(await check(item))) confirmed = false;
    }
  };
  await Promise.all(Array.from({ length: OWNERSHIP_CHECK_CONCURRENCY }, worker));
  return confirmed;
}

export interface ScopedPartnerPolicyOptions {
  /** The partners, by id (a {@link PartnerDirectory}, reloaded as the configuration changes). */
  readonly directory: Pick<PartnerDirectory, 'byId'>;
  /** Calls Ioto for device-ownership checks (a `device/get` with the partner's account). */
  readonly ioto: IotoCaller;
  readonly logger: Logger;
}

/** The partner policy of the access configuration. */
export class ScopedPartnerPolicy implements PartnerPolicy {
  readonly #directory: Pick<PartnerDirectory, 'byId'>;
  readonly #ioto: IotoCaller;
  readonly #logger: Logger;

  constructor(options: ScopedPartnerPolicyOptions) {
    this.#directory = options.directory;
    this.#ioto = options.ioto;
    this.#logger = options.logger;
  }

  authorize(operation: OperationDefinition, event: APIGatewayProxyEvent): PartnerCall {
    const partnerId = partnerIdOf(event);
    const partner = typeof partnerId === 'string' ? this.#directory.byId(partnerId) : undefined;
    // Without a known partner the authorizer did not run or the configuration changed under
    // a cached authorization: either way nobody is identified. Nor is anybody when the partner's
    // identity is no longer the one the (cached) authorization was given for, or its token has
    // expired since (identity-fingerprint.ts).
    if (partner === undefined || !authorizationHolds(event.requestContext?.authorizer, partner)) {
      throw new UnauthorizedError();
    }
    if (!partner.operations.has(operationKey(operation))) throw new OperationNotAllowedError();
    return { partner, operation };
  }

  scope(call: PartnerCall, body: unknown): { call: PartnerCall; body: unknown } {
    // Not an object: validation answers; there is no account to confuse.
    if (!isPlainObject(body)) return { call, body };
    const path = call.operation.scope.account;
    if (path === undefined) {
      // A free-attribute body must not smuggle an owner-level account target.
      if (Object.hasOwn(body, 'accountId')) throw new AccountNotAllowedError();
      return { call, body };
    }
    const found = lookUp(body, path);
    if (found === undefined) return { call, body };
    const accounts = call.partner.accounts;
    let account: string;
    if (found.present) {
      // Exact match only: no trimming, no case folding, no coercion of other types.
      if (typeof found.value !== 'string' || !accounts.has(found.value)) {
        throw new AccountNotAllowedError();
      }
      account = found.value;
    } else if (accounts.size === 1) {
      account = [...accounts][0] as string;
    } else {
      throw new AccountNotAllowedError({
        detail: `Name one of your accounts in "${path.join('.')}".`,
      });
    }
    return { call: { ...call, account }, body: withValueAt(body, path, account) };
  }

  /** `signal`: the request's deadline, which the ownership checks share with the call. */
  async confirm(
    call: PartnerCall,
    fields: Readonly<Record<string, unknown>>,
    signal?: AbortSignal,
  ): Promise<void> {
    const { partner, operation } = call;
    const scope = operation.scope;
    if (scope.action !== undefined) this.#confirmAction(partner, fields);
    const references = findReferences(scope, fields);
    for (const { value } of references.accounts) {
      if (typeof value !== 'string') throw new AccountNotAllowedError();
      // The call acts in one account: a body that names another one, even another of the
      // partner's, would leave Ioto to pick.
      const allowed =
        call.account === undefined ? partner.accounts.has(value) : value === call.account;
      if (!allowed) throw new AccountNotAllowedError();
    }
    const devices = new Set<string>();
    for (const { value } of references.devices) {
      if (typeof value !== 'string' || value === '' || value.length > MAX_DEVICE_ID_LENGTH) {
        throw new DeviceNotAllowedError({ detail: 'Name each device by its id, as a string.' });
      }
      devices.add(value);
    }
    if (devices.size > MAX_DEVICES_PER_REQUEST) {
      throw new ValidationError([
        { path: '', message: `Names more than ${MAX_DEVICES_PER_REQUEST} distinct devices` },
      ]);
    }
    // Every device against the allow-list first: a refused request costs Ioto nothing.
    for (const device of devices) {
      if (!this.#deviceListed(partner, device)) throw new DeviceNotAllowedError();
    }
    if ((scope.deviceOwnership ?? 'lookup') !== 'lookup' || devices.size === 0) return;
    // One check per device, in the one account the call acts in: every operation that names a
    // device to look up also selects an account (the partner's only one, or the one it named),
    // so a partner with several accounts never makes a check per account.
    const account = call.account;
    if (account === undefined) {
      throw new AccountNotAllowedError({ detail: 'Name one of your accounts in "accountId".' });
    }
    const owned = await everyConfirmed([...devices], (device) =>
      this.#owns(account, device, signal),
    );
    if (!owned) throw new DeviceNotAllowedError();
  }

  conceal(call: PartnerCall, error: unknown): unknown {
    if (!(error instanceof UpstreamRejectedError) || !isScopable(call.operation)) return error;
    this.#logger.info('Ioto rejected a tenant-scoped call; the partner gets the neutral answer', {
      partnerId: call.partner.id,
      operation: operationKey(call.operation),
      iotoDetail: error.detail,
    });
    return neutralRejection(error);
  }

  filter(call: PartnerCall, data: unknown): unknown {
    const { partner, operation } = call;
    if (hasAssumedScope(operation)) this.#confirmAnswerAccount(call, data);
    if (Array.isArray(data)) {
      const kept = data.filter((item) => this.#inScope(partner, operation, item));
      if (kept.length !== data.length) this.#violation(call, data.length - kept.length);
      return kept.filter((item) => this.#deviceVisible(partner, operation, item));
    }
    if (!this.#inScope(partner, operation, data)) {
      this.#violation(call, 1);
      // Answered as if Ioto had found nothing: a different answer would tell the partner that
      // what it named exists in another tenant. The violation is logged for the operator.
      throw neutralRejection(new Error('Ioto answered with a record outside the scope'));
    }
    return data;
  }

  /**
   * For an operation whose account scoping is assumed: every record of the answer (each item of
   * a list) must name the account the call acted in, where the catalog says records name it.
   * Otherwise Ioto did not honour the selector, and the owner token may have acted in another
   * tenant: nothing is passed on (502 `upstream_error`), and the violation is logged for the
   * stack's alarm. A record Ioto did not find (`null`) names nothing and passes.
   */
  #confirmAnswerAccount(call: PartnerCall, data: unknown): void {
    const scoping = call.operation.scope.accountScoping;
    if (scoping?.basis !== 'assumed') return;
    if (call.operation.response !== 'record' && call.operation.response !== 'list') return;
    const records = Array.isArray(data) ? data : data === null ? [] : [data];
    const foreign = records.filter((record) => {
      const named = isPlainObject(record) ? lookUp(record, scoping.answer)?.value : undefined;
      return !(
        typeof named === 'string' &&
        (call.account === undefined ? call.partner.accounts.has(named) : named === call.account)
      );
    }).length;
    if (foreign === 0) return;
    this.#violation(call, foreign);
    throw new UpstreamError({
      cause: new Error(
        `Ioto answered ${foreign} record(s) that do not name the account of the call at ${scoping.answer.join('.')}`,
      ),
    });
  }

  /**
   * action/invoke: Ioto runs the action `id` names when there is one, and `name` only without
   * (docs/ioto-api.md §3.2), so only a call by a granted name passes; invocation by id is refused
   * rather than resolved (that would cost an action lookup whose `type` the partner must know).
   */
  #confirmAction(partner: Partner, fields: Readonly<Record<string, unknown>>): void {
    if (fields.id !== undefined) {
      throw new ActionNotAllowedError({
        detail: 'Invoke actions by name; invocation by id is not offered.',
      });
    }
    const name = fields.name;
    if (typeof name !== 'string' || !partner.actions.has(name)) throw new ActionNotAllowedError();
  }

  #deviceListed(partner: Partner, device: string): boolean {
    const limits = partner.config.devices;
    if (limits === undefined) return true;
    return (
      (limits.ids?.includes(device) ?? false) ||
      (limits.prefixes?.some((prefix) => device.startsWith(prefix)) ?? false)
    );
  }

  /**
   * Whether Ioto has the device in the account; any failure other than a 400 propagates (a reply
   * of the wrong shape is a 502 from the reader).
   */
  async #owns(account: string, device: string, signal?: AbortSignal): Promise<boolean> {
    try {
      const record = await this.#ioto({
        controller: 'device',
        operation: 'get',
        body: { id: device, accountId: account },
        query: {},
        retrySafe: true,
        ...(signal && { signal }),
      });
      return isPlainObject(record) && record.id === device && record.accountId === account;
    } catch (error) {
      if (error instanceof UpstreamRejectedError) return false;
      throw error;
    }
  }

  /**
   * An item is out of scope when it names an account that is not the partner's: its `accountId`,
   * or its `id` for the Account controller. Items that name no account are kept.
   */
  #inScope(partner: Partner, operation: OperationDefinition, item: unknown): boolean {
    if (!isPlainObject(item)) return true;
    const selector = operation.scope.account;
    const field = selector?.length === 1 && selector[0] === 'id' ? 'id' : 'accountId';
    const named = item[field];
    return named === undefined || (typeof named === 'string' && partner.accounts.has(named));
  }

  /** With a device allow-list, list items of other devices are not shown (not a violation). */
  #deviceVisible(partner: Partner, operation: OperationDefinition, item: unknown): boolean {
    if (partner.config.devices === undefined || !isPlainObject(item)) return true;
    const device = operation.controller === 'device' ? item.id : item.deviceId;
    return typeof device !== 'string' || this.#deviceListed(partner, device);
  }

  #violation(call: PartnerCall, count: number): void {
    this.#logger.error(SCOPE_VIOLATION_MESSAGE, {
      partnerId: call.partner.id,
      operation: operationKey(call.operation),
      dropped: count,
    });
  }
}
