import { DEVICE_SCHEMA } from '../device-schema';
import { badRequest } from '../errors';
import { AWS_REGION } from '../fake-credentials';
import type { AccountRecord, UserRecord, UserRole } from '../model';
import { empty, type JsonObject, json, type OperationTable } from '../operation';
import { page } from '../paging';
import { optionalBoolean, optionalObject, optionalString, requireString } from '../request-fields';
import { SEED, ulidLike } from '../seed';
import type { SimulatorState } from '../state';

/** User controller (docs/ioto-api.md §3.10). Users live in an account (`accountId`, ref §2.3). */

const USER_ROLES: ReadonlySet<string> = new Set<UserRole>(['user', 'admin', 'owner']);

/**
 * user/getRoles and user/login answer a roles "Object Record" whose shape Ioto does not
 * document (ref §10.12). The simulator maps each role to its rank, lowest first (ref §0).
 */
const ROLES = Object.freeze({ public: 0, user: 1, admin: 2, owner: 3 });

function roleOf(body: JsonObject): UserRole {
  const role = requireString(body, 'role');
  if (!USER_ROLES.has(role)) throw badRequest('Invalid property "role"');
  return role as UserRole;
}

function usersOf(state: SimulatorState, account: AccountRecord): UserRecord[] {
  return [...state.data.users.values()]
    .filter((user) => user.accountId === account.id)
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** The user named by `id`, else by `email`, in the target account. */
function userOf(state: SimulatorState, body: JsonObject): UserRecord {
  const account = state.account(body);
  const id = optionalString(body, 'id');
  const email = id === undefined ? optionalString(body, 'email') : undefined;
  if (id === undefined && email === undefined) throw badRequest('Missing required property "id"');
  const user = usersOf(state, account).find((candidate) =>
    id !== undefined ? candidate.id === id : candidate.email === email,
  );
  if (user === undefined) throw badRequest('Cannot find user');
  return user;
}

function assertEmailFree(state: SimulatorState, account: AccountRecord, email: string): void {
  if (usersOf(state, account).some((user) => user.email === email)) {
    throw badRequest('User already exists');
  }
}

/** The device app's Manager record (ref §4.2), as user/login returns it. */
const managerFor = (account: AccountRecord): Record<string, unknown> => ({
  accountId: account.id,
  cloudId: account.cloudId,
  custom: false,
  domain: 'app.sim-ioto.example',
  id: ulidLike('MG', 1),
  name: 'sim-app',
  owner: account.id,
  provisioned: SEED.epoch,
  region: AWS_REGION,
  title: 'Simulated Device App',
  type: 'app',
  users: [],
  version: '1.0.0',
});

export const USER_OPERATIONS: OperationTable = {
  /** `sendInvite` is accepted; no email is ever sent. */
  create: (state, { body }) => {
    const account = state.account(body);
    const email = requireString(body, 'email');
    const role = roleOf(body);
    optionalBoolean(body, 'sendInvite');
    assertEmailFree(state, account, email);
    const user: UserRecord = {
      id: state.newId('US'),
      accountId: account.id,
      cloudId: account.cloudId,
      email,
      first: optionalString(body, 'first') ?? '',
      last: optionalString(body, 'last') ?? '',
      role,
      activity: state.now(),
    };
    state.data.users.set(user.id, user);
    return json(user);
  },

  find: (state, { body, query }) => {
    const account = state.account(body);
    const id = optionalString(body, 'id');
    const email = optionalString(body, 'email');
    const users = usersOf(state, account).filter(
      (user) =>
        (id === undefined || user.id === id) && (email === undefined || user.email === email),
    );
    return json(
      page(
        {
          pk: `account#${account.id}`,
          skPrefix: 'user#',
          entries: users.map((user) => ({ sk: `user#${user.id}`, value: user })),
        },
        query,
      ),
    );
  },

  get: (state, { body }) => json(userOf(state, body)),

  getRoles: () => json(ROLES),

  /**
   * Login runs after Cognito authentication as "the" user (ref §3.10); with a CloudAPI token
   * there is no such user, so the simulator logs in as the target account's owner.
   */
  login: (state, { body }) => {
    const account = state.account(body);
    optionalString(body, 'invite');
    optionalBoolean(body, 'register');
    optionalBoolean(body, 'social');
    const users = usersOf(state, account);
    const user = users.find((candidate) => candidate.role === 'owner') ?? users[0];
    if (user === undefined) throw badRequest('Cannot find user');
    user.activity = state.now();
    return json({
      account,
      manager: managerFor(account),
      roles: ROLES,
      schema: DEVICE_SCHEMA,
      user,
    });
  },

  /** Ioto does not document the answer (ref §10.12): 200 with an empty body. */
  remove: (state, { body }) => {
    state.data.users.delete(userOf(state, body).id);
    return empty();
  },

  /** `email` changes the address only when the user is named by `id`. */
  update: (state, { body }) => {
    const user = userOf(state, body);
    const email = optionalString(body, 'email');
    if (optionalString(body, 'id') !== undefined && email !== undefined && email !== user.email) {
      assertEmailFree(state, state.accountById(user.accountId), email);
      user.email = email;
    }
    const first = optionalString(body, 'first');
    const last = optionalString(body, 'last');
    const preferences = optionalObject(body, 'preferences');
    if (first !== undefined) user.first = first;
    if (last !== undefined) user.last = last;
    if (preferences !== undefined) user.preferences = preferences;
    return json(user);
  },

  updateRole: (state, { body }) => {
    const user = userOf(state, { ...body, id: requireString(body, 'id') });
    user.role = roleOf(body);
    optionalBoolean(body, 'sendInvite');
    return json(user);
  },
};
