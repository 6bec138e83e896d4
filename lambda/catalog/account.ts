/**
 * Account operations (docs/ioto-api.md §3.1). The Account controller names its target account `id`
 * (owner only); without it the caller's own account is used. All are `admin` for our policy:
 * they manage accounts.
 */
import { optional, strictObject } from '../config/zod';
import { email, freeText, identifier } from './fields';
import type { OperationDeclaration } from './types';

const accountSelector = () =>
  strictObject({
    id: optional(identifier),
    email: optional(email),
  });

/** The four Account operations. */
export const accountOperations: readonly OperationDeclaration[] = [
  {
    controller: 'account',
    operation: 'close',
    summary: 'Close an account, removing all its users, devices and dashboards; cannot be undone.',
    request: () => strictObject({ id: optional(identifier) }),
    paged: false,
    response: 'none',
    // A repeat after a lost answer meets an already-closed account and fails.
    retrySafe: false,
    iotoRole: 'admin',
    sensitivity: 'admin',
    mutates: true,
    scope: {
      accountScoping: {
        basis: 'documented',
        source: '§3.1: `id` (owner) names the account to close',
      },
      account: ['id'],
    },
  },
  {
    controller: 'account',
    operation: 'find',
    summary: 'List accounts, optionally selected by id or email.',
    request: accountSelector,
    paged: true,
    response: 'list',
    record: 'Account',
    retrySafe: true,
    iotoRole: 'admin',
    sensitivity: 'admin',
    mutates: false,
    scope: {
      accountScoping: { basis: 'documented', source: '§3.1: `id` names the account' },
      account: ['id'],
    },
  },
  {
    controller: 'account',
    operation: 'get',
    summary: "Get the caller's account, or (owner) another account by id or email.",
    request: accountSelector,
    paged: false,
    response: 'record',
    record: 'Account',
    retrySafe: true,
    iotoRole: 'user',
    sensitivity: 'admin',
    mutates: false,
    scope: {
      accountScoping: { basis: 'documented', source: '§3.1: `id` (owner) names the account' },
      account: ['id'],
    },
  },
  {
    controller: 'account',
    operation: 'updateIdentity',
    summary: "Update an account's email and name.",
    request: () =>
      strictObject({
        id: optional(identifier),
        email: optional(email),
        name: optional(freeText),
      }),
    paged: false,
    response: 'record',
    record: 'Account',
    // Sets the identity to absolute values: repeating it leaves the same account.
    retrySafe: true,
    iotoRole: 'admin',
    sensitivity: 'admin',
    mutates: true,
    scope: {
      accountScoping: {
        basis: 'documented',
        source: '§3.1: `id` (owner) names the account to update',
      },
      account: ['id'],
    },
  },
];
