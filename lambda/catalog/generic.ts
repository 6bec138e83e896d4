/**
 * Generic operations (docs/ioto-api.md §3.6): schema-agnostic CRUD on device-cloud items chosen by
 * `_type`. Other properties are item attributes or key filters, so they pass (as JSON values).
 */
import { maxLength, minLength, optional, regex, string } from '../config/zod';
import { accountId, deviceId, withFreeAttributes } from './fields';
import type { OperationDeclaration, OperationScope } from './types';

/** A model name such as `Device` or `Store`: an identifier, as OneTable model names are. */
const modelName = string().check(
  minLength(1),
  maxLength(64),
  regex(/^[A-Za-z][A-Za-z0-9_]*$/, 'Expected a model name'),
);

/**
 * The body every Generic operation takes: `_type` (required), `deviceId` and the owner's target
 * `accountId` (the docs' examples send it, §3.6) typed, everything else free.
 */
const genericItem = () =>
  withFreeAttributes({
    _type: modelName,
    deviceId: optional(deviceId),
    accountId: optional(accountId),
  });

/**
 * The whole body is free-form: besides the typed `accountId` and `deviceId`, any attribute may
 * name a device or an account at any depth.
 */
const GENERIC_SCOPE: OperationScope = {
  account: ['accountId'],
  devices: [['deviceId']],
  freeForm: [[]],
};

/** The five Generic operations. */
export const genericOperations: readonly OperationDeclaration[] = [
  {
    controller: 'generic',
    operation: 'create',
    summary: 'Create a database item of a model (`_type`).',
    request: genericItem,
    paged: false,
    response: 'record',
    record: 'GenericItem',
    retrySafe: false,
    iotoRole: 'user',
    sensitivity: 'write',
    mutates: true,
    scope: { ...GENERIC_SCOPE, accountScoping: { basis: 'assumed', answer: ['accountId'] } },
  },
  {
    controller: 'generic',
    operation: 'find',
    summary: 'Find the database items of a model, filtered by attributes.',
    request: genericItem,
    paged: true,
    response: 'list',
    record: 'GenericItem',
    retrySafe: true,
    iotoRole: 'user',
    sensitivity: 'read',
    mutates: false,
    scope: {
      ...GENERIC_SCOPE,
      accountScoping: {
        basis: 'documented',
        source: "§3.6: `accountId` is the owner's target (vendor samples)",
      },
    },
  },
  {
    controller: 'generic',
    operation: 'get',
    summary: 'Get one database item of a model.',
    request: genericItem,
    paged: false,
    response: 'record',
    record: 'GenericItem',
    retrySafe: true,
    iotoRole: 'user',
    sensitivity: 'read',
    mutates: false,
    scope: {
      ...GENERIC_SCOPE,
      accountScoping: {
        basis: 'documented',
        source: "§3.6: `accountId` is the owner's target (vendor samples)",
      },
    },
  },
  {
    controller: 'generic',
    operation: 'remove',
    summary: 'Remove a database item of a model.',
    request: genericItem,
    paged: false,
    response: 'none',
    retrySafe: false,
    iotoRole: 'user',
    sensitivity: 'write',
    mutates: true,
    scope: { ...GENERIC_SCOPE, accountScoping: { basis: 'assumed', answer: ['accountId'] } },
  },
  {
    controller: 'generic',
    operation: 'update',
    summary: 'Update a database item of a model with new attribute values.',
    request: genericItem,
    paged: false,
    response: 'record',
    record: 'GenericItem',
    // Writes the given attributes as absolute values.
    retrySafe: true,
    iotoRole: 'user',
    sensitivity: 'write',
    mutates: true,
    scope: {
      ...GENERIC_SCOPE,
      accountScoping: {
        basis: 'documented',
        source: "§3.6: `accountId` is the owner's target (samples/api/set-item.sh)",
      },
    },
  },
];
