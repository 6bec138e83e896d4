import type { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { operationKey } from '../catalog/index';
import type { OperationDefinition } from '../catalog/types';
import {
  AccountNotAllowedError,
  DeviceNotAllowedError,
  OperationNotAllowedError,
  UnauthorizedError,
  UpstreamError,
  UpstreamRejectedError,
} from '../problems/problem-error';
import type { UpstreamCall } from '../upstream/ioto-client';
import type { Partner, PartnerDirectory } from './partner-directory';

/** A call the policy has admitted so far: who makes it, and for which account. */
export interface PartnerCall {
  readonly partner: Partner;
  readonly operation: OperationDefinition;
  /** The account the call is confined to, once `scope` has run (if the operation names one). */
  readonly account?: string;
}

/** What the policy needs of Ioto: one call, for device-ownership checks. */
export type IotoCaller = (call: UpstreamCall) => Promise<{ readonly text: string }>;

/**
 * The partner policy between validation and the token. Four steps, all deny by default:
 * 1. `authorize`: identify the partner (from the authorizer context) and check the operation is
 *    granted (OWASP API5, function level);
 * 2. `scope`: on the raw body, before validation, set or check the account the call acts on
 *    (API1, object level), so no value of another type or shape can slip through a schema;
 * 3. `confirm`: for operations that name a device, check the device is the partner's: against
 *    its allow-list, then through Ioto with the partner's own account;
 * 4. `filter`: on the way back, drop what lies outside the scope (it should never happen).
 */
export interface PartnerPolicy {
  authorize(operation: OperationDefinition, event: APIGatewayProxyEvent): PartnerCall;
  scope(call: PartnerCall, body: unknown): { readonly call: PartnerCall; readonly body: unknown };
  confirm(call: PartnerCall, fields: Readonly<Record<string, unknown>>): Promise<void>;
  filter(call: PartnerCall, data: unknown): unknown;
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** The partner id API Gateway passes from the authorizer's context. */
const partnerIdOf = (event: APIGatewayProxyEvent): unknown =>
  (event.requestContext?.authorizer as Record<string, unknown> | null | undefined)?.partnerId;

export interface ScopedPartnerPolicyOptions {
  readonly directory: PartnerDirectory;
  /** Calls Ioto for device-ownership checks (a `device/get` with the partner's account). */
  readonly ioto: IotoCaller;
  readonly logger: Logger;
}

/** The partner policy of the access configuration. */
export class ScopedPartnerPolicy implements PartnerPolicy {
  readonly #directory: PartnerDirectory;
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
    // a cached authorization: either way nobody is identified.
    if (partner === undefined) throw new UnauthorizedError();
    if (!partner.operations.has(operationKey(operation))) throw new OperationNotAllowedError();
    return { partner, operation };
  }

  scope(call: PartnerCall, body: unknown): { call: PartnerCall; body: unknown } {
    // Not an object: validation answers; there is no account to confuse.
    if (!isPlainObject(body)) return { call, body };
    const field = call.operation.scope.account;
    if (field === 'none') {
      // A free-attribute body must not smuggle an owner-level account target.
      if (Object.hasOwn(body, 'accountId')) throw new AccountNotAllowedError();
      return { call, body };
    }
    const accounts = call.partner.accounts;
    let account: string;
    if (Object.hasOwn(body, field)) {
      const named = body[field];
      // Exact match only: no trimming, no case folding, no coercion of other types.
      if (typeof named !== 'string' || !accounts.has(named)) throw new AccountNotAllowedError();
      account = named;
    } else if (accounts.size === 1) {
      account = [...accounts][0] as string;
    } else {
      throw new AccountNotAllowedError({
        detail: `Name one of your accounts in "${field}".`,
      });
    }
    return { call: { ...call, account }, body: { ...body, [field]: account } };
  }

  async confirm(call: PartnerCall, fields: Readonly<Record<string, unknown>>): Promise<void> {
    const field = call.operation.scope.device;
    const device = field === undefined ? undefined : fields[field];
    if (typeof device !== 'string') return;
    if (!this.#deviceListed(call.partner, device)) throw new DeviceNotAllowedError();
    const key = operationKey(call.operation);
    // A claim names a device no account owns yet; device/get is itself the ownership check
    // (confined to the partner's account, and its answer is checked by `filter`).
    if (key === 'device/claim' || key === 'device/get') return;
    const candidates = call.account === undefined ? [...call.partner.accounts] : [call.account];
    for (const account of candidates) {
      if (await this.#owns(account, device)) return;
    }
    throw new DeviceNotAllowedError();
  }

  filter(call: PartnerCall, data: unknown): unknown {
    const { partner, operation } = call;
    if (Array.isArray(data)) {
      const kept = data.filter((item) => this.#inScope(partner, operation, item));
      if (kept.length !== data.length) this.#violation(call, data.length - kept.length);
      return kept.filter((item) => this.#deviceVisible(partner, operation, item));
    }
    if (!this.#inScope(partner, operation, data)) {
      this.#violation(call, 1);
      throw new UpstreamError({
        cause: new Error('Ioto answered with a record outside the scope'),
      });
    }
    return data;
  }

  #deviceListed(partner: Partner, device: string): boolean {
    const limits = partner.config.devices;
    if (limits === undefined) return true;
    return (
      (limits.ids?.includes(device) ?? false) ||
      (limits.prefixes?.some((prefix) => device.startsWith(prefix)) ?? false)
    );
  }

  /** Whether Ioto has the device in the account; any failure other than a 400 propagates. */
  async #owns(account: string, device: string): Promise<boolean> {
    try {
      const reply = await this.#ioto({
        controller: 'device',
        operation: 'get',
        body: { id: device, accountId: account },
        query: {},
        retrySafe: true,
      });
      const record: unknown = JSON.parse(reply.text || 'null');
      return isPlainObject(record) && record.id === device && record.accountId === account;
    } catch (error) {
      if (error instanceof UpstreamRejectedError) return false;
      if (error instanceof SyntaxError) throw new UpstreamError({ cause: error });
      throw error;
    }
  }

  /**
   * An item is out of scope when it names an account that is not the partner's: its `accountId`,
   * or its `id` for the Account controller. Items that name no account are kept.
   */
  #inScope(partner: Partner, operation: OperationDefinition, item: unknown): boolean {
    if (!isPlainObject(item)) return true;
    const field = operation.scope.account === 'id' ? 'id' : 'accountId';
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
    this.#logger.error('scope violation: Ioto returned data outside the partner scope', {
      partnerId: call.partner.id,
      operation: operationKey(call.operation),
      dropped: count,
    });
  }
}
