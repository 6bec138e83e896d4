/**
 * Device operations (ioto-api.md §3.5). Most act on one device named by `id` (the claim ID).
 * The device-role operations (getCreds, getSignedUrl, provision) hand out credentials.
 */
import { strictObject, string, enum as zodEnum } from 'zod';
import { accountId, count, freeText, identifier } from './fields';
import type { OperationDefinition } from './types';

/** RFC 6838 caps type and subtype at 127 characters each. */
const mimeType = string().min(1).max(255);

/** The seven Device operations. */
export const deviceOperations: readonly OperationDefinition[] = [
  {
    controller: 'device',
    operation: 'claim',
    summary: 'Claim a registered device into the device cloud by its claim ID.',
    request: strictObject({ id: identifier, accountId: accountId.optional() }),
    paged: false,
    response: 'record',
    // A second claim meets a device that is already claimed.
    retrySafe: false,
    sensitivity: 'write',
    mutates: true,
    scope: { account: 'accountId', device: 'id' },
  },
  {
    controller: 'device',
    operation: 'find',
    summary: 'List the devices of an account, optionally by id or product.',
    // `accountId` is required with a CloudAPI token (§3.5), which is how this proxy calls Ioto.
    request: strictObject({
      id: identifier.optional(),
      accountId,
      productId: identifier.optional(),
    }),
    paged: true,
    response: 'list',
    retrySafe: true,
    sensitivity: 'read',
    mutates: false,
    scope: { account: 'accountId' },
  },
  {
    controller: 'device',
    operation: 'get',
    summary: 'Get a device.',
    request: strictObject({ id: identifier, accountId: accountId.optional() }),
    paged: false,
    response: 'record',
    retrySafe: true,
    sensitivity: 'read',
    mutates: false,
    scope: { account: 'accountId', device: 'id' },
  },
  {
    controller: 'device',
    operation: 'getCreds',
    summary: 'Get temporary AWS IAM credentials for a device in a dedicated cloud.',
    request: strictObject({}),
    paged: false,
    response: 'record',
    // Each call mints a new set of temporary credentials.
    retrySafe: false,
    sensitivity: 'credential',
    mutates: true,
    scope: { account: 'none' },
  },
  {
    controller: 'device',
    operation: 'getSignedUrl',
    summary: 'Get a signed URL to get, put or delete a device file.',
    request: strictObject({
      id: identifier.optional(),
      command: zodEnum(['get', 'put', 'delete']).optional(),
      filename: freeText.optional(),
      mimeType: mimeType.optional(),
      size: count.optional(),
    }),
    paged: false,
    response: 'string',
    // Signing changes nothing in the cloud; a repeat only signs another URL.
    retrySafe: true,
    // The URL is a capability: whoever holds it can read, write or delete the file.
    sensitivity: 'credential',
    mutates: true,
    scope: { account: 'none', device: 'id' },
  },
  {
    controller: 'device',
    operation: 'provision',
    summary: 'Issue the MQTT certificate, private key and endpoint of a claimed device.',
    request: strictObject({ id: identifier }),
    paged: false,
    response: 'record',
    // Issues a new certificate and private key on every call.
    retrySafe: false,
    sensitivity: 'credential',
    mutates: true,
    scope: { account: 'none', device: 'id' },
  },
  {
    controller: 'device',
    operation: 'release',
    summary: 'Release a device back to the Builder so that another cloud can claim it.',
    request: strictObject({ id: identifier }),
    paged: false,
    response: 'record',
    // A repeat meets a device that is no longer in this cloud.
    retrySafe: false,
    sensitivity: 'write',
    mutates: true,
    scope: { account: 'none', device: 'id' },
  },
];
