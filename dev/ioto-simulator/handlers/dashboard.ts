import { badRequest } from '../errors';
import type { AccountRecord, DashboardRecord } from '../model';
import { empty, type JsonObject, json, type OperationTable } from '../operation';
import { optionalString, requireString } from '../request-fields';
import type { SimulatorState } from '../state';

/**
 * Dashboard controller (docs/ioto-api.md §3.4). Dashboards live in an account. The paging options
 * listed on create/update look like a template artifact (ref §6, §10.13) and are ignored;
 * dashboard/find answers a bare array because the reference does not call it paged.
 */

type FieldKind = 'array' | 'boolean' | 'number' | 'object' | 'string';

/** The body fields of create/update and their types (ref §3.4 "Dashboard body fields"). */
const FIELDS = {
  css: 'array',
  emulate: 'string',
  fixed: 'boolean',
  framed: 'boolean',
  layout: 'string',
  live: 'boolean',
  name: 'string',
  range: 'object',
  refresh: 'number',
  toolbar: 'boolean',
  type: 'string',
  widgetCss: 'array',
  widgets: 'array',
} as const satisfies Record<string, FieldKind>;

const kindOf = (value: unknown): FieldKind | 'other' => {
  if (Array.isArray(value)) return 'array';
  if (value === null) return 'other';
  const kind = typeof value;
  return kind === 'boolean' || kind === 'number' || kind === 'object' || kind === 'string'
    ? kind
    : 'other';
};

/**
 * The documented dashboard fields present in the body, type-checked. Undocumented fields are
 * dropped rather than stored, so records keep the documented shape.
 */
function dashboardFields(body: JsonObject): Partial<DashboardRecord> {
  const fields: Record<string, unknown> = {};
  for (const [name, kind] of Object.entries(FIELDS)) {
    const value = body[name];
    if (value === undefined) continue;
    if (kindOf(value) !== kind) throw badRequest(`Invalid property "${name}"`);
    fields[name] = value;
  }
  return fields as Partial<DashboardRecord>;
}

function dashboardsOf(state: SimulatorState, account: AccountRecord): DashboardRecord[] {
  return [...state.data.dashboards.values()]
    .filter((dashboard) => dashboard.accountId === account.id)
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** Get takes `id` or `name` (ref §3.4); remove and update take `id`. */
function dashboardOf(state: SimulatorState, body: JsonObject, byName = false): DashboardRecord {
  const account = state.account(body);
  const id = optionalString(body, 'id');
  const name = byName && id === undefined ? optionalString(body, 'name') : undefined;
  if (id === undefined && name === undefined) throw badRequest('Missing required property "id"');
  const dashboard = dashboardsOf(state, account).find((candidate) =>
    id !== undefined ? candidate.id === id : candidate.name === name,
  );
  if (dashboard === undefined) throw badRequest('Cannot find dashboard');
  return dashboard;
}

export const DASHBOARD_OPERATIONS: OperationTable = {
  /** Defaults: `layout` `grid` is documented (ref §3.4); the others are the simulator's. */
  create: (state, { body }) => {
    const account = state.account(body);
    requireString(body, 'name');
    const dashboard: DashboardRecord = {
      css: [],
      fixed: false,
      framed: true,
      layout: 'grid',
      live: true,
      range: {},
      refresh: 60,
      toolbar: true,
      type: 'dashboard',
      widgetCss: [],
      widgets: [],
      name: '',
      ...dashboardFields(body),
      id: state.newId('DB'),
      accountId: account.id,
    };
    state.data.dashboards.set(dashboard.id, dashboard);
    return json(dashboard);
  },

  find: (state, { body }) => json(dashboardsOf(state, state.account(body))),

  get: (state, { body }) => json(dashboardOf(state, body, true)),

  /** Ioto does not document the answer (ref §10.12): 200 with an empty body. */
  remove: (state, { body }) => {
    state.data.dashboards.delete(dashboardOf(state, body).id);
    return empty();
  },

  update: (state, { body }) => {
    const dashboard = dashboardOf(state, body);
    Object.assign(dashboard, dashboardFields(body));
    return json(dashboard);
  },
};
