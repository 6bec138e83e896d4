import { Logger } from '@aws-lambda-powertools/logger';
import type { Partner } from '../../lambda/auth/partner-directory';
import { ScopedPartnerPolicy } from '../../lambda/auth/scoped-partner-policy';
import { catalog } from '../../lambda/catalog/index';
import { partnerSchema } from '../../lambda/config/access';
import { DeviceNotAllowedError } from '../../lambda/problems/problem-error';
import { readCatalogReply } from '../../lambda/proxy/normalize-response';

/**
 * Before the proxy forwards a call that names a device, it asks Ioto `device/get` with the
 * partner's account and decides from the answer (`confirm` in
 * lambda/auth/scoped-partner-policy.ts, fed by `readCatalogReply`, the reader that
 * `buildProxyDependencies` in lambda/proxy/proxy-dependencies.ts wires).
 * This runs that real check over a device/get answer the probe already has, so the probe reports
 * what the proxy would decide, not a restatement of it. Nothing is sent: the answer is replayed.
 */

/** An operation whose devices the proxy confirms with a device/get lookup (store/get, ...). */
const LOOKUP_OPERATION = catalog.find(
  (op) =>
    !op.mutates &&
    (op.scope.deviceOwnership ?? 'lookup') === 'lookup' &&
    (op.scope.devices ?? []).some((path) => path.length === 1 && path[0] === 'deviceId'),
);

/** What the proxy's ownership check makes of a device/get answer. */
export type OwnershipVerdict =
  | { readonly kind: 'accepted' }
  | { readonly kind: 'refused' }
  | { readonly kind: 'error'; readonly reason: string };

/**
 * Whether the proxy would take `deviceGetReply` (a 200 answer to
 * `device/get {id: device, accountId: account}`) as proof that `account` holds `device`.
 */
export async function ownershipVerdict(
  deviceGetReply: { readonly contentType: string; readonly text: string },
  device: string,
  account: string,
): Promise<OwnershipVerdict> {
  if (LOOKUP_OPERATION === undefined) {
    return { kind: 'error', reason: 'the catalog has no operation checked by device/get' };
  }
  const config = partnerSchema.safeParse({
    id: 'probe',
    operations: [],
    accounts: [account],
    identity: { issuer: 'https://probe.invalid', clientId: 'probe' },
  });
  if (!config.success) {
    return { kind: 'error', reason: 'the account id is not one an access configuration takes' };
  }
  const partner: Partner = {
    id: config.data.id,
    config: config.data,
    operations: new Set(),
    accounts: new Set([account]),
    actions: new Set(),
  };
  const policy = new ScopedPartnerPolicy({
    directory: { byId: () => partner },
    // The proxy's own reading of the answer (a 502 when it has the wrong shape).
    ioto: async (call) => {
      if (call.controller !== 'device' || call.operation !== 'get') {
        throw new Error(`unexpected ${call.controller}/${call.operation} in the ownership check`);
      }
      return readCatalogReply(call, deviceGetReply).data;
    },
    logger: new Logger({ logLevel: 'SILENT' }),
  });
  try {
    await policy.confirm({ partner, operation: LOOKUP_OPERATION, account }, { deviceId: device });
    return { kind: 'accepted' };
  } catch (error) {
    if (error instanceof DeviceNotAllowedError) return { kind: 'refused' };
    return { kind: 'error', reason: error instanceof Error ? error.message : String(error) };
  }
}
