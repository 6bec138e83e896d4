/** Alert operations (docs/ioto-api.md §3.3). `accountId` lets an owner target another account. */
import { boolean, optional, strictObject } from '../config/zod';
import { accountId, identifier } from './fields';
import type { OperationDeclaration } from './types';

// The reference marks no field Req here, but these act on one alert: without `id` there is
// nothing to get, remove or update, so we require it rather than forward a guess.
const alertById = () => strictObject({ id: identifier, accountId: optional(accountId) });

/** The four Alert operations. */
export const alertOperations: readonly OperationDeclaration[] = [
  {
    controller: 'alert',
    operation: 'find',
    summary: 'List alerts.',
    request: () => strictObject({ accountId: optional(accountId) }),
    paged: true,
    response: 'list',
    record: 'Alert',
    retrySafe: true,
    iotoRole: 'user',
    sensitivity: 'read',
    mutates: false,
    scope: { accountScoping: { basis: 'assumed', answer: ['accountId'] }, account: ['accountId'] },
  },
  {
    controller: 'alert',
    operation: 'get',
    summary: 'Get an alert.',
    request: alertById,
    paged: false,
    response: 'record',
    record: 'Alert',
    retrySafe: true,
    iotoRole: 'admin',
    sensitivity: 'read',
    mutates: false,
    scope: { accountScoping: { basis: 'assumed', answer: ['accountId'] }, account: ['accountId'] },
  },
  {
    controller: 'alert',
    operation: 'remove',
    summary: 'Remove an alert.',
    request: alertById,
    paged: false,
    response: 'none',
    retrySafe: false,
    iotoRole: 'admin',
    sensitivity: 'write',
    mutates: true,
    scope: { accountScoping: { basis: 'assumed', answer: ['accountId'] }, account: ['accountId'] },
  },
  {
    controller: 'alert',
    operation: 'update',
    summary: 'Mark an alert resolved or unresolved.',
    request: () =>
      strictObject({
        id: identifier,
        resolved: optional(boolean()),
        accountId: optional(accountId),
      }),
    paged: false,
    response: 'record',
    record: 'Alert',
    // Sets `resolved` to an absolute value.
    retrySafe: true,
    iotoRole: 'admin',
    sensitivity: 'write',
    mutates: true,
    scope: { accountScoping: { basis: 'assumed', answer: ['accountId'] }, account: ['accountId'] },
  },
];
