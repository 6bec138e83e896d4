import { badRequest } from '../errors';
import type { AlertRecord } from '../model';
import { empty, type JsonObject, json, type OperationTable } from '../operation';
import { page } from '../paging';
import { optionalBoolean, requireString } from '../request-fields';
import type { SimulatorState } from '../state';

/** Alert controller (docs/ioto-api.md §3.3). Alerts live in an account (`accountId`, ref §2.3). */

function alertOf(state: SimulatorState, body: JsonObject): AlertRecord {
  const account = state.account(body);
  const alert = state.data.alerts.get(requireString(body, 'id'));
  if (alert === undefined || alert.accountId !== account.id) throw badRequest('Cannot find alert');
  return alert;
}

export const ALERT_OPERATIONS: OperationTable = {
  find: (state, { body, query }) => {
    const account = state.account(body);
    const alerts = [...state.data.alerts.values()].filter(
      (alert) => alert.accountId === account.id,
    );
    return json(
      page(
        {
          pk: `account#${account.id}`,
          skPrefix: 'alert#',
          entries: alerts.map((alert) => ({ sk: `alert#${alert.id}`, value: alert })),
        },
        query,
      ),
    );
  },

  get: (state, { body }) => json(alertOf(state, body)),

  /** Ioto does not document the answer (ref §10.12): 200 with an empty body. */
  remove: (state, { body }) => {
    state.data.alerts.delete(alertOf(state, body).id);
    return empty();
  },

  update: (state, { body }) => {
    const alert = alertOf(state, body);
    const resolved = optionalBoolean(body, 'resolved');
    if (resolved !== undefined) alert.resolved = resolved;
    return json(alert);
  },
};
