/** Dashboard operations (docs/ioto-api.md §3.4). `accountId` lets an owner target another account. */
import {
  array,
  boolean,
  json,
  looseObject,
  number,
  strictObject,
  string,
  enum as zodEnum,
} from 'zod';
import {
  accountId,
  count,
  dateInput,
  freeText,
  identifier,
  jsonObject,
  seconds,
  statistic,
} from './fields';
import type { OperationDefinition, OperationScope } from './types';

/** Time-range override of a dashboard: every field is documented, so it is strict (§3.4). */
const range = strictObject({
  anchor: zodEnum(['absolute', 'relative']).optional(),
  start: dateInput.optional(),
  period: seconds.optional(),
  refresh: seconds.optional(),
  override: boolean().optional(),
  timezone: freeText.optional(),
});

/**
 * CSS lists: the element type is not documented (§3.4). Ioto bounds no list; ours (200 entries,
 * 200 widgets, 50 actions) stop abuse and are far above what a dashboard editor writes.
 */
const cssList = array(json()).max(200);

/**
 * Widget text. Unlike top-level strings it may be empty, and it is longer than free text: a
 * dashboard read with dashboard/get is written back on update, so blank captions, long `text`
 * and JSON `items` (§3.4) must survive the round trip.
 */
const widgetText = string().max(4096);

/**
 * A widget action (§3.4). Documented fields are typed; other JSON attributes pass because the
 * editions disagree on widget actions (§8: the older tree has a singular `action` object).
 */
const widgetAction = looseObject({
  type: widgetText.optional(),
  target: widgetText.optional(),
  conditions: array(json()).max(50).optional(),
}).catchall(json());

/**
 * A widget (§3.4). Documented fields are typed; other JSON attributes pass so that a dashboard
 * read from Ioto (or built by an older editor, §8) can be written back unchanged.
 */
const widget = looseObject({
  actions: array(widgetAction).max(50).optional(),
  accept: widgetText.optional(),
  anchor: jsonObject.optional(),
  axes: jsonObject.optional(),
  cloudId: identifier.optional(),
  columns: array(json()).max(200).optional(),
  css: cssList.optional(),
  datetime: widgetText.optional(),
  defaultValue: widgetText.optional(),
  dimensions: jsonObject.optional(),
  field: widgetText.optional(),
  fields: array(json()).max(200).optional(),
  fixed: boolean().optional(),
  form: widgetText.optional(),
  formField: widgetText.optional(),
  footer: widgetText.optional(),
  format: widgetText.optional(),
  framed: boolean().optional(),
  header: widgetText.optional(),
  height: widgetText.optional(),
  id: identifier.optional(),
  icon: widgetText.optional(),
  input: widgetText.optional(),
  items: widgetText.optional(),
  label: widgetText.optional(),
  legend: jsonObject.optional(),
  left: widgetText.optional(),
  limit: count.optional(),
  max: number().optional(),
  min: number().optional(),
  metric: widgetText.optional(),
  model: widgetText.optional(),
  multiple: boolean().optional(),
  namespace: widgetText.optional(),
  options: jsonObject.optional(),
  pageSize: count.optional(),
  pivot: widgetText.optional(),
  placeholder: widgetText.optional(),
  prefix: widgetText.optional(),
  presentation: widgetText.optional(),
  range: jsonObject.optional(),
  region: widgetText.optional(),
  rows: count.optional(),
  show: widgetText.optional(),
  statistic: statistic.optional(),
  subtitle: widgetText.optional(),
  suffix: widgetText.optional(),
  text: widgetText.optional(),
  ticks: count.optional(),
  timezone: widgetText.optional(),
  title: widgetText.optional(),
  top: widgetText.optional(),
  type: widgetText.optional(),
  units: widgetText.optional(),
  url: widgetText.optional(),
  validate: widgetText.optional(),
  width: widgetText.optional(),
  z: number().optional(),
}).catchall(json());

/** The dashboard body of dashboard/create; `name` is required there (§3.4). */
const dashboardCreate = strictObject({
  css: cssList.optional(),
  emulate: freeText.optional(),
  fixed: boolean().optional(),
  framed: boolean().optional(),
  layout: freeText.optional(),
  live: boolean().optional(),
  name: freeText,
  range: range.optional(),
  refresh: seconds.optional(),
  toolbar: boolean().optional(),
  type: zodEnum(['page', 'dashboard']).optional(),
  widgets: array(widget).max(200).optional(),
  widgetCss: cssList.optional(),
  accountId: accountId.optional(),
});

/** dashboard/update takes the same fields, all optional, and requires `id` (§3.4). */
const dashboardUpdate = dashboardCreate.partial().extend({ id: identifier });

/**
 * Widgets carry free attributes and free objects (their `dimensions` name the device a widget
 * shows), and CSS lists hold untyped JSON: all three are free-form.
 */
const DASHBOARD_WRITE_SCOPE: OperationScope = {
  account: ['accountId'],
  freeForm: [['css'], ['widgetCss'], ['widgets']],
};

/** The five Dashboard operations. */
export const dashboardOperations: readonly OperationDefinition[] = [
  {
    controller: 'dashboard',
    operation: 'create',
    summary: 'Create a dashboard.',
    request: dashboardCreate,
    paged: false,
    response: 'record',
    record: 'Dashboard',
    retrySafe: false,
    iotoRole: 'user',
    sensitivity: 'write',
    mutates: true,
    scope: {
      ...DASHBOARD_WRITE_SCOPE,
      accountScoping: { basis: 'assumed', answer: ['accountId'] },
    },
  },
  {
    controller: 'dashboard',
    operation: 'find',
    summary: 'List dashboards.',
    request: strictObject({ accountId: accountId.optional() }),
    // Ioto does not say whether this is paged (§3.4, §6); it lists no paging options, so it is
    // offered as a plain list.
    paged: false,
    response: 'list',
    record: 'Dashboard',
    retrySafe: true,
    iotoRole: 'user',
    sensitivity: 'read',
    mutates: false,
    scope: { accountScoping: { basis: 'assumed', answer: ['accountId'] }, account: ['accountId'] },
  },
  {
    controller: 'dashboard',
    operation: 'get',
    summary: 'Get a dashboard by id or name.',
    request: strictObject({
      id: identifier.optional(),
      name: freeText.optional(),
      accountId: accountId.optional(),
    }),
    paged: false,
    response: 'record',
    record: 'Dashboard',
    retrySafe: true,
    iotoRole: 'user',
    sensitivity: 'read',
    mutates: false,
    scope: { accountScoping: { basis: 'assumed', answer: ['accountId'] }, account: ['accountId'] },
  },
  {
    controller: 'dashboard',
    operation: 'remove',
    summary: 'Remove a dashboard.',
    // `id` is not marked Req (§3.4), but a remove without it names nothing.
    request: strictObject({ id: identifier, accountId: accountId.optional() }),
    paged: false,
    response: 'none',
    retrySafe: false,
    iotoRole: 'user',
    sensitivity: 'write',
    mutates: true,
    scope: { accountScoping: { basis: 'assumed', answer: ['accountId'] }, account: ['accountId'] },
  },
  {
    controller: 'dashboard',
    operation: 'update',
    summary: 'Update a dashboard.',
    request: dashboardUpdate,
    paged: false,
    response: 'record',
    record: 'Dashboard',
    // Writes the given fields as absolute values.
    retrySafe: true,
    iotoRole: 'user',
    sensitivity: 'write',
    mutates: true,
    scope: {
      ...DASHBOARD_WRITE_SCOPE,
      accountScoping: { basis: 'assumed', answer: ['accountId'] },
    },
  },
];
