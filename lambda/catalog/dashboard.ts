/** Dashboard operations (docs/ioto-api.md §3.4). `accountId` lets an owner target another account. */
import {
  array,
  boolean,
  catchall,
  extend,
  json,
  looseObject,
  maxLength,
  number,
  optional,
  partial,
  strictObject,
  string,
  enum as zodEnum,
} from '../config/zod';
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
import type { OperationDeclaration, OperationScope } from './types';

/** Time-range override of a dashboard: every field is documented, so it is strict (§3.4). */
const range = () =>
  strictObject({
    anchor: optional(zodEnum(['absolute', 'relative'])),
    start: optional(dateInput),
    period: optional(seconds),
    refresh: optional(seconds),
    override: optional(boolean()),
    timezone: optional(freeText),
  });

/**
 * CSS lists: the element type is not documented (§3.4). Ioto bounds no list; ours (200 entries,
 * 200 widgets, 50 actions) stop abuse and are far above what a dashboard editor writes.
 */
const cssList = array(json()).check(maxLength(200));

/**
 * Widget text. Unlike top-level strings it may be empty, and it is longer than free text: a
 * dashboard read with dashboard/get is written back on update, so blank captions, long `text`
 * and JSON `items` (§3.4) must survive the round trip.
 */
const widgetText = string().check(maxLength(4096));

/**
 * A widget action (§3.4). Documented fields are typed; other JSON attributes pass because the
 * editions disagree on widget actions (§8: the older tree has a singular `action` object).
 */
const widgetAction = () =>
  catchall(
    looseObject({
      type: optional(widgetText),
      target: optional(widgetText),
      conditions: optional(array(json()).check(maxLength(50))),
    }),
    json(),
  );

/**
 * A widget (§3.4). Documented fields are typed; other JSON attributes pass so that a dashboard
 * read from Ioto (or built by an older editor, §8) can be written back unchanged.
 */
const widget = () =>
  catchall(
    looseObject({
      actions: optional(array(widgetAction()).check(maxLength(50))),
      accept: optional(widgetText),
      anchor: optional(jsonObject),
      axes: optional(jsonObject),
      cloudId: optional(identifier),
      columns: optional(array(json()).check(maxLength(200))),
      css: optional(cssList),
      datetime: optional(widgetText),
      defaultValue: optional(widgetText),
      dimensions: optional(jsonObject),
      field: optional(widgetText),
      fields: optional(array(json()).check(maxLength(200))),
      fixed: optional(boolean()),
      form: optional(widgetText),
      formField: optional(widgetText),
      footer: optional(widgetText),
      format: optional(widgetText),
      framed: optional(boolean()),
      header: optional(widgetText),
      height: optional(widgetText),
      id: optional(identifier),
      icon: optional(widgetText),
      input: optional(widgetText),
      items: optional(widgetText),
      label: optional(widgetText),
      legend: optional(jsonObject),
      left: optional(widgetText),
      limit: optional(count),
      max: optional(number()),
      min: optional(number()),
      metric: optional(widgetText),
      model: optional(widgetText),
      multiple: optional(boolean()),
      namespace: optional(widgetText),
      options: optional(jsonObject),
      pageSize: optional(count),
      pivot: optional(widgetText),
      placeholder: optional(widgetText),
      prefix: optional(widgetText),
      presentation: optional(widgetText),
      range: optional(jsonObject),
      region: optional(widgetText),
      rows: optional(count),
      show: optional(widgetText),
      statistic: optional(statistic),
      subtitle: optional(widgetText),
      suffix: optional(widgetText),
      text: optional(widgetText),
      ticks: optional(count),
      timezone: optional(widgetText),
      title: optional(widgetText),
      top: optional(widgetText),
      type: optional(widgetText),
      units: optional(widgetText),
      url: optional(widgetText),
      validate: optional(widgetText),
      width: optional(widgetText),
      z: optional(number()),
    }),
    json(),
  );

/** The dashboard body of dashboard/create; `name` is required there (§3.4). */
const dashboardCreate = () =>
  strictObject({
    css: optional(cssList),
    emulate: optional(freeText),
    fixed: optional(boolean()),
    framed: optional(boolean()),
    layout: optional(freeText),
    live: optional(boolean()),
    name: freeText,
    range: optional(range()),
    refresh: optional(seconds),
    toolbar: optional(boolean()),
    type: optional(zodEnum(['page', 'dashboard'])),
    widgets: optional(array(widget()).check(maxLength(200))),
    widgetCss: optional(cssList),
    accountId: optional(accountId),
  });

/** dashboard/update takes the same fields, all optional, and requires `id` (§3.4). */
const dashboardUpdate = () => extend(partial(dashboardCreate()), { id: identifier });

/**
 * Widgets carry free attributes and free objects (their `dimensions` name the device a widget
 * shows), and CSS lists hold untyped JSON: all three are free-form.
 */
const DASHBOARD_WRITE_SCOPE: OperationScope = {
  account: ['accountId'],
  freeForm: [['css'], ['widgetCss'], ['widgets']],
};

/** The five Dashboard operations. */
export const dashboardOperations: readonly OperationDeclaration[] = [
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
    request: () => strictObject({ accountId: optional(accountId) }),
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
    request: () =>
      strictObject({
        id: optional(identifier),
        name: optional(freeText),
        accountId: optional(accountId),
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
    request: () => strictObject({ id: identifier, accountId: optional(accountId) }),
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
