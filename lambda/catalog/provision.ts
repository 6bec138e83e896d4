/**
 * Provision operations (docs/ioto-api.md §3.8): device-side certificate issue and software update.
 * They name the device by `id` and are not account-addressed in Ioto; `accountId` is the gateway's
 * own selector of the account the ownership check uses, never sent to Ioto.
 */
import { boolean, optional, strictObject } from '../config/zod';
import { accountId, DEVICE_SIDE_SCOPE, freeText, identifier, withFreeAttributes } from './fields';
import type { OperationDeclaration } from './types';

/** The three Provision operations. */
export const provisionOperations: readonly OperationDeclaration[] = [
  {
    controller: 'provision',
    operation: 'getCerts',
    summary: 'Issue the MQTT certificate, private key and endpoint of a device.',
    request: () => strictObject({ id: identifier, accountId: optional(accountId) }),
    paged: false,
    response: 'record',
    record: 'DeviceCertificates',
    // Issues a new certificate and private key on every call.
    retrySafe: false,
    iotoRole: 'device',
    sensitivity: 'credential',
    mutates: true,
    scope: DEVICE_SIDE_SCOPE,
  },
  {
    controller: 'provision',
    operation: 'update',
    summary: 'Check whether a software update is available for a device.',
    // `*`: the agent sends its whole device.json5 block besides the documented fields (§3.8).
    // `product` is a Builder product token whose format is undocumented, hence free text.
    request: () =>
      withFreeAttributes({
        id: identifier,
        accountId: optional(accountId),
        product: freeText,
        version: freeText,
        test: optional(boolean()),
      }),
    paged: false,
    response: 'record',
    record: 'SoftwareUpdate',
    // A check: asking again gets the same answer.
    retrySafe: true,
    iotoRole: 'upgrade',
    sensitivity: 'write',
    mutates: true,
    // The free device properties may name other devices or accounts.
    scope: { ...DEVICE_SIDE_SCOPE, freeForm: [[]] },
  },
  {
    controller: 'provision',
    operation: 'updateReport',
    summary: 'Report the outcome of a software update.',
    // `update` is documented as "update status"; it is presumably the update ID (§3.8).
    request: () =>
      strictObject({
        id: identifier,
        update: freeText,
        success: boolean(),
        accountId: optional(accountId),
      }),
    paged: false,
    response: 'none',
    // Each call records a report: a repeat records the same outcome twice.
    retrySafe: false,
    iotoRole: 'upgrade',
    sensitivity: 'write',
    mutates: true,
    scope: DEVICE_SIDE_SCOPE,
  },
];
