/**
 * Device operations (docs/ioto-api.md §3.5). Most act on one device named by `id` (the claim ID).
 * The device-role operations (getCreds, getSignedUrl, provision) hand out credentials.
 */
import {
  maxLength,
  minLength,
  optional,
  strictObject,
  string,
  enum as zodEnum,
} from '../config/zod';
import { accountId, count, DEVICE_SIDE_SCOPE, deviceFileName, identifier } from './fields';
import type { OperationDeclaration } from './types';

/** RFC 6838 caps type and subtype at 127 characters each. */
const mimeType = string().check(minLength(1), maxLength(255));

/** The seven Device operations. */
export const deviceOperations: readonly OperationDeclaration[] = [
  {
    controller: 'device',
    operation: 'claim',
    summary: 'Claim a registered device into the device cloud by its claim ID.',
    request: () => strictObject({ id: identifier, accountId: optional(accountId) }),
    paged: false,
    response: 'record',
    record: 'Device',
    // A second claim meets a device that is already claimed.
    retrySafe: false,
    iotoRole: 'claimDevice',
    sensitivity: 'write',
    mutates: true,
    // The device is in no account yet: only the allow-list applies, and Ioto's refusal is
    // answered neutrally, so a claim cannot tell another tenant's device from a missing one.
    scope: {
      accountScoping: { basis: 'assumed', answer: ['accountId'] },
      account: ['accountId'],
      devices: [['id']],
      deviceOwnership: 'unclaimed',
    },
  },
  {
    controller: 'device',
    operation: 'find',
    summary: 'List the devices of an account, optionally by id or product.',
    // `accountId` is required with a CloudAPI token (§3.5), which is how this proxy calls Ioto.
    request: () =>
      strictObject({
        id: optional(identifier),
        accountId,
        productId: optional(identifier),
      }),
    paged: true,
    response: 'list',
    record: 'Device',
    retrySafe: true,
    iotoRole: 'user',
    sensitivity: 'read',
    mutates: false,
    // An `id` filter only narrows the list of the partner's account.
    scope: {
      accountScoping: {
        basis: 'documented',
        source: '§3.5: `accountId` (owner), required with a CloudAPI token',
      },
      account: ['accountId'],
      devices: [['id']],
      deviceOwnership: 'call',
    },
  },
  {
    controller: 'device',
    operation: 'get',
    summary: 'Get a device.',
    request: () => strictObject({ id: identifier, accountId: optional(accountId) }),
    paged: false,
    response: 'record',
    record: 'Device',
    retrySafe: true,
    iotoRole: 'user',
    sensitivity: 'read',
    mutates: false,
    // Ioto looks the device up in the partner's account: the call is its own ownership check.
    scope: {
      accountScoping: { basis: 'documented', source: '§3.5: `accountId` (owner)' },
      account: ['accountId'],
      devices: [['id']],
      deviceOwnership: 'call',
    },
  },
  {
    controller: 'device',
    operation: 'getCreds',
    summary: 'Get temporary AWS IAM credentials for a device in a dedicated cloud.',
    request: () => strictObject({}),
    paged: false,
    response: 'record',
    record: 'DeviceCredentials',
    // Each call mints a new set of temporary credentials.
    retrySafe: false,
    iotoRole: 'device',
    sensitivity: 'credential',
    mutates: true,
    scope: {},
  },
  {
    controller: 'device',
    operation: 'getSignedUrl',
    summary: 'Get a signed URL to get, put or delete a device file.',
    // `id` is not marked Req (§3.5): a device caller's token names the device. With the
    // CloudAPI token nothing else does, so a call without it would sign a URL for whatever Ioto
    // picks; the file name must stay inside that device's files.
    request: () =>
      strictObject({
        id: identifier,
        command: optional(zodEnum(['get', 'put', 'delete'])),
        filename: optional(deviceFileName),
        mimeType: optional(mimeType),
        size: optional(count),
        accountId: optional(accountId),
      }),
    paged: false,
    response: 'string',
    record: 'SignedUrl',
    // Signing changes nothing in the cloud; a repeat only signs another URL.
    retrySafe: true,
    // The URL is a capability: whoever holds it can read, write or delete the file.
    iotoRole: 'device',
    sensitivity: 'credential',
    mutates: true,
    scope: DEVICE_SIDE_SCOPE,
  },
  {
    controller: 'device',
    operation: 'provision',
    summary: 'Issue the MQTT certificate, private key and endpoint of a claimed device.',
    request: () => strictObject({ id: identifier, accountId: optional(accountId) }),
    paged: false,
    response: 'record',
    record: 'DeviceCertificates',
    // Issues a new certificate and private key on every call.
    retrySafe: false,
    iotoRole: 'device',
    sensitivity: 'credential',
    mutates: true,
    // `{..., error?, delay?}`: `delay` seconds until a block for excessive I/O lifts (§3.5).
    errorInBody: true,
    scope: DEVICE_SIDE_SCOPE,
  },
  {
    controller: 'device',
    operation: 'release',
    summary: 'Release a device back to the Builder so that another cloud can claim it.',
    request: () => strictObject({ id: identifier, accountId: optional(accountId) }),
    paged: false,
    response: 'record',
    record: 'Device',
    // A repeat meets a device that is no longer in this cloud.
    retrySafe: false,
    iotoRole: 'releaseDevice',
    sensitivity: 'write',
    mutates: true,
    scope: DEVICE_SIDE_SCOPE,
  },
];
