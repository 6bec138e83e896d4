/**
 * Action operations (docs/ioto-api.md §3.2): automated actions belong to the cloud, not to an
 * account, so they are not account-addressed.
 */
import { optional, refine, strictObject, enum as zodEnum } from '../config/zod';
import { cloudId, freeText, identifier, jsonObject } from './fields';
import type { OperationDeclaration } from './types';

/**
 * The documented action types (docs/ioto-api.md §3.2). Ioto types `type` as a string but lists
 * these as the valid ones; any other names no action, so it is refused here.
 */
const actionType = zodEnum([
  'alert',
  'builder-alert',
  'builder-metric',
  'database',
  'delay',
  'device',
  'email',
  'eventbridge',
  'http',
  'lambda',
  'metric',
  'mqtt',
  'sms',
]);

/** The three Action operations. */
export const actionOperations: readonly OperationDeclaration[] = [
  {
    controller: 'action',
    operation: 'find',
    summary: 'List the automated actions of a cloud, optionally of one type.',
    request: () => strictObject({ cloudId, type: optional(actionType) }),
    paged: true,
    response: 'list',
    record: 'Action',
    retrySafe: true,
    iotoRole: 'user',
    sensitivity: 'read',
    mutates: false,
    scope: {},
  },
  {
    controller: 'action',
    operation: 'get',
    summary: 'Get an automated action.',
    request: () => strictObject({ id: optional(identifier), cloudId, type: actionType }),
    paged: false,
    response: 'record',
    record: 'Action',
    retrySafe: true,
    iotoRole: 'admin',
    sensitivity: 'read',
    mutates: false,
    scope: {},
  },
  {
    controller: 'action',
    operation: 'invoke',
    summary: 'Invoke an automated action by id or name, with a context.',
    // Ioto uses `name` when there is no `id`; with neither there is nothing to invoke.
    request: () =>
      strictObject({
        id: optional(identifier),
        name: optional(freeText),
        context: optional(jsonObject),
      }).check(
        refine((body) => body.id !== undefined || body.name !== undefined, {
          message: 'Either id or name is required',
          path: ['id'],
        }),
      ),
    paged: false,
    response: 'record',
    record: 'ActionInvocation',
    // Runs the action (email, SMS, HTTP call ...) again.
    retrySafe: false,
    iotoRole: 'user',
    sensitivity: 'write',
    mutates: true,
    // `{error?, name, context}`: the agent treats `error` as the action's failure (§3.2).
    errorInBody: true,
    // Granted by action name (the partner's `actions`). The context is free-form and is what the
    // action acts on (the docs' example names a device in it): its account is set to the
    // partner's, and every device in it must be the partner's.
    scope: {
      accountScoping: { basis: 'assumed', answer: ['context', 'accountId'] },
      account: ['context', 'accountId'],
      devices: [['context', 'deviceId']],
      freeForm: [['context']],
      action: 'name',
    },
  },
];
