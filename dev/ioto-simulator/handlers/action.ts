import { badRequest } from '../errors';
import type { ActionRecord } from '../model';
import { type JsonObject, json, type OperationTable } from '../operation';
import { page } from '../paging';
import { optionalObject, optionalString, requireString } from '../request-fields';
import type { SimulatorState } from '../state';

/**
 * Action controller (docs/ioto-api.md §3.2). Actions belong to the device cloud, so they are picked
 * by `cloudId`, not by account. The CloudAPI token is bound to the one simulated cloud.
 */

function requireCloud(state: SimulatorState, body: JsonObject): void {
  if (requireString(body, 'cloudId') !== state.cloudId) throw badRequest('Cannot find cloud');
}

function byIdOrName(state: SimulatorState, body: JsonObject): ActionRecord {
  const id = optionalString(body, 'id');
  // Invoke takes `id`, or `name` when there is no id (ref §3.2).
  const name = id === undefined ? requireString(body, 'name') : undefined;
  for (const action of state.data.actions.values()) {
    if (action.id === id || (name !== undefined && action.name === name)) return action;
  }
  throw badRequest('Cannot find action');
}

export const ACTION_OPERATIONS: OperationTable = {
  find: (state, { body, query }) => {
    requireCloud(state, body);
    const type = optionalString(body, 'type');
    const actions = [...state.data.actions.values()].filter(
      (action) => type === undefined || action.type === type,
    );
    return json(
      page(
        {
          pk: `cloud#${state.cloudId}`,
          skPrefix: 'action#',
          entries: actions.map((action) => ({ sk: `action#${action.id}`, value: action })),
        },
        query,
      ),
    );
  },

  /** `cloudId` and `type` are marked required on Get (ref §3.2); `id` picks the action. */
  get: (state, { body }) => {
    requireCloud(state, body);
    const type = requireString(body, 'type');
    const action = state.data.actions.get(requireString(body, 'id'));
    if (action === undefined || action.type !== type) throw badRequest('Cannot find action');
    return json(action);
  },

  /**
   * Answers `{name, context}`, or `{error, name, context}` for a failing action. Ioto does not
   * say which status goes with `error` (ref §2.8, §10.5); the agent reads `error` from a
   * successful reply, so the simulator answers 200.
   */
  invoke: (state, { body }) => {
    const action = byIdOrName(state, body);
    const context = optionalObject(body, 'context') ?? {};
    const failure = state.data.actionFailures.get(action.id);
    if (failure !== undefined) {
      action.error = failure;
      return json({ error: failure, name: action.name, context });
    }
    return json({ name: action.name, context });
  },
};
