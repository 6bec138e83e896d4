import { badRequest } from '../errors';
import type { AccountRecord } from '../model';
import { empty, type JsonObject, json, type OperationTable } from '../operation';
import { page } from '../paging';
import { optionalString } from '../request-fields';
import type { SimulatorState } from '../state';

/**
 * Account controller (docs/ioto-api.md §3.1). The Account pages address the target account with
 * `id` (owner only), not `accountId`; without it the caller's own account is used, which for a
 * CloudAPI token is the cloud owner's account (the first seeded one).
 */

const target = (state: SimulatorState, body: JsonObject): AccountRecord =>
  state.account(body, 'id');

/** Close removes the account with its users, devices, dashboards and data (ref §3.1). */
function removeAccount(state: SimulatorState, accountId: string): void {
  const { data } = state;
  data.accounts.delete(accountId);
  for (const map of [data.devices, data.items, data.alerts, data.dashboards, data.users]) {
    for (const [key, record] of map) {
      if (record.accountId === accountId) map.delete(key);
    }
  }
}

function byEmail(state: SimulatorState, email: string): AccountRecord {
  for (const account of state.data.accounts.values()) {
    if (account.email === email) return account;
  }
  throw badRequest('Cannot find account');
}

export const ACCOUNT_OPERATIONS: OperationTable = {
  /** Ioto does not document the answer (ref §10.12): 200 with an empty body. */
  close: (state, { body }) => {
    removeAccount(state, target(state, body).id);
    return empty();
  },

  get: (state, { body }) => {
    const email = optionalString(body, 'email');
    if (optionalString(body, 'id') === undefined && email !== undefined) {
      return json(byEmail(state, email));
    }
    return json(target(state, body));
  },

  find: (state, { body, query }) => {
    const id = optionalString(body, 'id');
    const email = optionalString(body, 'email');
    const accounts = [...state.data.accounts.values()].filter(
      (account) =>
        (id === undefined || account.id === id) && (email === undefined || account.email === email),
    );
    return json(
      page(
        {
          pk: `cloud#${state.cloudId}`,
          skPrefix: 'account#',
          entries: accounts.map((account) => ({ sk: `account#${account.id}`, value: account })),
        },
        query,
      ),
    );
  },

  updateIdentity: (state, { body }) => {
    const account = target(state, body);
    const email = optionalString(body, 'email');
    const name = optionalString(body, 'name');
    if (email !== undefined) account.email = email;
    if (name !== undefined) account.name = name;
    account.activity = state.now();
    return json(account);
  },
};
