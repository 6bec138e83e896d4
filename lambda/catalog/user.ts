/**
 * User operations (docs/ioto-api.md §3.10). All are `admin` for our policy: they manage users. An
 * owner can aim the account-bound ones at another account with `accountId` (§2.3).
 */
import { boolean, optional, strictObject } from '../config/zod';
import { accountId, email, freeText, identifier, jsonObject, userRole } from './fields';
import type { OperationDeclaration } from './types';

const userSelector = () =>
  strictObject({
    email: optional(email),
    id: optional(identifier),
    accountId: optional(accountId),
  });

/** The eight User operations. */
export const userOperations: readonly OperationDeclaration[] = [
  {
    controller: 'user',
    operation: 'create',
    summary: 'Create a user and optionally email an invite.',
    request: () =>
      strictObject({
        email,
        role: userRole,
        sendInvite: optional(boolean()),
        accountId: optional(accountId),
      }),
    paged: false,
    response: 'record',
    record: 'User',
    retrySafe: false,
    iotoRole: 'admin',
    sensitivity: 'admin',
    mutates: true,
    scope: { accountScoping: { basis: 'assumed', answer: ['accountId'] }, account: ['accountId'] },
  },
  {
    controller: 'user',
    operation: 'find',
    summary: 'List users, optionally by email or id.',
    request: userSelector,
    paged: true,
    response: 'list',
    record: 'User',
    retrySafe: true,
    iotoRole: 'user',
    sensitivity: 'admin',
    mutates: false,
    scope: { accountScoping: { basis: 'assumed', answer: ['accountId'] }, account: ['accountId'] },
  },
  {
    controller: 'user',
    operation: 'get',
    summary: 'Get a user by email or id.',
    request: userSelector,
    paged: false,
    response: 'record',
    record: 'User',
    retrySafe: true,
    iotoRole: 'user',
    sensitivity: 'admin',
    mutates: false,
    scope: { accountScoping: { basis: 'assumed', answer: ['accountId'] }, account: ['accountId'] },
  },
  {
    controller: 'user',
    operation: 'getRoles',
    summary: 'Get the roles defined for users.',
    // No body; the roles are not documented as belonging to an account.
    request: () => strictObject({}),
    paged: false,
    response: 'record',
    record: 'UserRoles',
    retrySafe: true,
    iotoRole: 'admin',
    sensitivity: 'admin',
    mutates: false,
    scope: {},
  },
  {
    controller: 'user',
    operation: 'login',
    summary: 'Complete the login of a Cognito-authenticated user.',
    // Acts on the caller's own identity, never on a target account.
    request: () =>
      strictObject({
        invite: optional(identifier),
        register: optional(boolean()),
        social: optional(boolean()),
      }),
    paged: false,
    response: 'record',
    // May accept an invite or register the user, which a repeat would do again or fail on.
    retrySafe: false,
    iotoRole: 'public',
    sensitivity: 'admin',
    mutates: true,
    scope: {},
    withdrawn:
      'user/login completes a Cognito login of a person (docs/ioto-api.md §3.10, called without ' +
      '/tok); with the CloudAPI token it would log in as the cloud owner and answer the ' +
      "owner's account, manager and schema, which no partner may have.",
  },
  {
    controller: 'user',
    operation: 'remove',
    summary: 'Remove a user.',
    request: userSelector,
    paged: false,
    response: 'none',
    retrySafe: false,
    iotoRole: 'admin',
    sensitivity: 'admin',
    mutates: true,
    scope: { accountScoping: { basis: 'assumed', answer: ['accountId'] }, account: ['accountId'] },
  },
  {
    controller: 'user',
    operation: 'update',
    summary: "Update a user's email, name and preferences.",
    request: () =>
      strictObject({
        email: optional(email),
        first: optional(freeText),
        id: optional(identifier),
        last: optional(freeText),
        preferences: optional(jsonObject),
        accountId: optional(accountId),
      }),
    paged: false,
    response: 'record',
    record: 'User',
    // Writes the given fields as absolute values.
    retrySafe: true,
    iotoRole: 'user',
    sensitivity: 'admin',
    mutates: true,
    scope: {
      accountScoping: { basis: 'assumed', answer: ['accountId'] },
      account: ['accountId'],
      freeForm: [['preferences']],
    },
  },
  {
    controller: 'user',
    operation: 'updateRole',
    summary: "Change a user's role, optionally emailing an invite.",
    request: () =>
      strictObject({
        // Not marked Req (§3.10), but a role change without a user or a role names nothing.
        id: identifier,
        role: userRole,
        sendInvite: optional(boolean()),
        accountId: optional(accountId),
      }),
    paged: false,
    response: 'record',
    record: 'User',
    // With `sendInvite` a repeat emails another invite.
    retrySafe: false,
    iotoRole: 'admin',
    sensitivity: 'admin',
    mutates: true,
    scope: { accountScoping: { basis: 'assumed', answer: ['accountId'] }, account: ['accountId'] },
  },
];
