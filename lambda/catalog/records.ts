/**
 * The records Ioto documents for its answers (docs/ioto-api.md §3), as plain JSON Schema (2020-12,
 * the dialect of OpenAPI 3.1). The catalog names one per operation (`record` in types.ts); the
 * API description publishes them under `components/schemas`. Plain objects, not zod: nothing the
 * proxy runs validates answers against them, so they cost its bundle nothing.
 *
 * Each record types the fields the reference lists and stays open (`additionalProperties`): Ioto
 * may send more, and the proxy passes answers on unchanged. No field is required here; where
 * the proxy guarantees one (the account of an answer it checks), the API description adds it
 * per operation. Where the reference gives no shape (§10 item 12), the record is open-ended.
 */

/** A JSON value: the records are published as they are (the API description's type too). */
export type JsonValue =
  | string
  | number
  | boolean
  | null
  | readonly JsonValue[]
  | { readonly [key: string]: JsonValue };

/** A JSON Schema object, as JSON: what the API description embeds. */
export type RecordSchema = { readonly [keyword: string]: JsonValue };

type JsonSchema = RecordSchema;

/** Where Ioto's reference for a controller lives, for the descriptions partners read. */
const REFERENCE = 'https://www.embedthis.com/doc/ioto/ref';

/** `schema`, with a description when one is given. */
const described = (schema: JsonSchema, description: string | undefined): JsonSchema =>
  description === undefined ? schema : { ...schema, description };

const text = (description?: string) => described({ type: 'string' }, description);
const flag = (description?: string) => described({ type: 'boolean' }, description);
const numeric = (description?: string) => described({ type: 'number' }, description);
const object = (description?: string) =>
  described({ type: 'object', additionalProperties: true }, description);
const list = (description?: string) => described({ type: 'array' }, description);

/**
 * Ioto's `date`: the reference never says how it is serialized (docs/ioto-api.md §2.6, §10
 * item 9); ISO 8601 text is the likely form, a number of seconds or milliseconds the other.
 */
const date = (description: string): JsonSchema => ({
  type: ['string', 'number'],
  description: `${description} A date: ISO 8601 text as far as known; Ioto does not document its form.`,
});

/** A record: typed fields, nothing required, more fields allowed. */
const record = (
  description: string,
  properties: Readonly<Record<string, JsonSchema>>,
): JsonSchema => ({
  type: 'object',
  description,
  properties,
  additionalProperties: true,
});

/** An answer whose shape the reference does not give (docs/ioto-api.md §10 item 12). */
const openRecord = (description: string): JsonSchema => ({
  type: 'object',
  description,
  additionalProperties: true,
});

/** Every record of the catalog's answers, by the name the catalog gives it. */
export const RECORD_SCHEMAS = {
  // docs/ioto-api.md §3.1 Account record.
  Account: record(`An Ioto account (${REFERENCE}/account.html).`, {
    id: text('The account id.'),
    name: text(),
    email: text(),
    cloudId: text('The device cloud of the account.'),
    created: date('When the account was created.'),
    activity: date('The last activity.'),
    closed: flag('Whether the account is closed.'),
  }),
  // docs/ioto-api.md §3.2 Action record; `message` is in the older trees only.
  Action: record(
    `An automated action of the device cloud, started by triggers (${REFERENCE}/action.html).`,
    {
      id: text(),
      name: text(),
      type: text(
        'The action type: alert, builder-alert, builder-metric, database, delay, device, email, ' +
          'eventbridge, http, lambda, metric, mqtt or sms.',
      ),
      cloudId: text('The cloud that owns it.'),
      description: text(),
      enable: flag(),
      args: object('Arguments of the action.'),
      buffer: object('Metric buffering optimizations.'),
      context: object('Context of the trigger expression, merged with user parameters.'),
      destination: text('A URL, email, function name, topic or phone number.'),
      due: numeric('When it is next due.'),
      error: text('The error of the last invocation.'),
      expression: text('The trigger expression.'),
      format: text('Format of the message.'),
      message: text('The message template or properties (older references).'),
      poll: numeric('Pause between two polls of the trigger.'),
      rearm: numeric('Period in which a new trigger is suppressed.'),
      severity: text('Severity of the alert.'),
      trigger: text('Source of the trigger.'),
    },
  ),
  // docs/ioto-api.md §3.2 Invoke answer `{error?, name, context}`; an `error` is a 502, never a 200.
  ActionInvocation: record(
    'What action/invoke ran: the action and the context it ran with. A failure Ioto reports ' +
      '(`error`) is answered 502 `upstream_failed`, never in a 200.',
    {
      name: text('The action that ran.'),
      context: object('The context it ran with.'),
    },
  ),
  // docs/ioto-api.md §3.3 Alert record.
  Alert: record(`An alert raised by an automated action (${REFERENCE}/alert.html).`, {
    id: text(),
    accountId: text('The account of the alert.'),
    cloudId: text(),
    name: text('The action that raised the alert.'),
    seq: text('Unique per alert type.'),
    count: numeric('How many alerts this sequence has raised.'),
    severity: text(),
    subject: text(),
    message: text(),
    context: object(),
    resolved: flag(),
    timestamp: date('When the alert was raised.'),
  }),
  // docs/ioto-api.md §3.4 Dashboard record (answer); widgets as in the request.
  Dashboard: record(`A dashboard and its widgets (${REFERENCE}/dashboard.html).`, {
    id: text(),
    accountId: text('The account of the dashboard.'),
    name: text(),
    type: text('"page" or "dashboard".'),
    layout: text('Layout engine, such as grid or exact.'),
    emulate: text('The device type emulated while designing.'),
    fixed: flag('Forbids changes at run time.'),
    framed: flag('Draws a frame around widgets.'),
    live: flag('Updates data live.'),
    toolbar: flag('Shows the toolbar.'),
    refresh: numeric('Refresh rate, in seconds.'),
    range: object('The time range override.'),
    css: list('CSS of the dashboard.'),
    widgetCss: list('CSS of the widgets.'),
    widgets: { type: 'array', items: object('A widget.'), description: 'The widgets.' },
  }),
  // docs/ioto-api.md §3.5 Device record.
  Device: record(`A device claimed into the cloud (${REFERENCE}/device.html).`, {
    id: text('The claim ID.'),
    accountId: text('The account that claimed it.'),
    product: text('The Builder product name.'),
    productId: text(),
    version: text('The firmware version.'),
    checked: text('The checked version.'),
    test: flag('A test device, not counted against subscription totals.'),
    created: date('When the device was first claimed.'),
    accessed: date('The last access.'),
  }),
  // docs/ioto-api.md §3.5 GetCreds answer.
  DeviceCredentials: record(
    "Temporary AWS IAM credentials of the cloud's device role (device/getCreds). Secret.",
    {
      accessKeyId: text(),
      secretAccessKey: text(),
      sessionToken: text(),
      region: text(),
      expires: date('When the credentials expire.'),
    },
  ),
  // docs/ioto-api.md §3.5 Provision answer and §3.8 GetCerts answer (documented identically).
  DeviceCertificates: record(
    'The MQTT certificate, **private key** and endpoint of a device (device/provision, ' +
      'provision/getCerts). Secret: whoever holds them can act as the device.',
    {
      id: text('The device.'),
      accountId: text(),
      certificate: text('The X.509 certificate (PEM).'),
      key: text('Its private key (PEM).'),
      endpoint: text('The MQTT host.'),
      port: numeric('The MQTT port.'),
      thing: text('The AWS IoT thing name.'),
    },
  ),
  // docs/ioto-api.md §3.6: the item of a model, with its free attributes.
  GenericItem: record(
    `A database item of a model, chosen by \`_type\`, with its attributes (${REFERENCE}/generic.html).`,
    {
      _type: text('The model name, such as Device or Store.'),
      accountId: text('The account of the item.'),
      deviceId: text('The device of the item, where it has one.'),
    },
  ),
  // docs/ioto-api.md §3.7 MetricResult and Point; `*` further properties.
  MetricResult: record(
    `The data of one metric request of metric/fetch (${REFERENCE}/metric.html).`,
    {
      namespace: text(),
      metric: text(),
      dimensions: object(),
      owner: text('The owning service.'),
      period: numeric('The time span, in seconds.'),
      samples: numeric(),
      error: text('Why this metric has no data, when it has none.'),
      points: {
        type: 'array',
        items: record('One data point.', {
          value: numeric(),
          timestamp: numeric('Seconds since the epoch (milliseconds by the Builder pages).'),
          count: numeric(),
        }),
      },
    },
  ),
  // docs/ioto-api.md §3.7 GetMetricList answer `{namespaces[], metrics[], dimensions[]}`.
  MetricList: record(
    'The metric namespaces (no namespace given), the metrics of a namespace, or their ' +
      'dimensions (namespace and metric given).',
    {
      namespaces: list(),
      metrics: list(),
      dimensions: list(),
    },
  ),
  // docs/ioto-api.md §3.7 GetDeviceSchema: "the schema definition", shape not documented.
  DeviceSchema: openRecord('The device schema of the cloud; Ioto does not document its shape.'),
  // docs/ioto-api.md §3.8 Update answer.
  SoftwareUpdate: record(
    'Whether a software update is available: without one, a `message`; with one, its `url`, ' +
      '`version`, `checksum` and `update` id.',
    {
      message: text(),
      url: text(),
      version: text(),
      checksum: text(),
      update: text('The id of the chosen update, to report with provision/updateReport.'),
    },
  ),
  // docs/ioto-api.md §3.9 Store record, as Generic answers it over REST.
  StoreItem: record(
    `An item of a device's key/value store (${REFERENCE}/store.html), stored as a Generic item of \`_type\` Store.`,
    {
      accountId: text(),
      deviceId: text(),
      key: text(),
      value: { description: 'The value, as written: a string, a number or a boolean.' },
      type: text('How to read the value: string, number or boolean.'),
      role: text('The role allowed to access the item.'),
      created: date('When the item was created.'),
      updated: date('When the item was last written.'),
      expires: date('When the item expires.'),
      _source: text(),
    },
  ),
  // docs/ioto-api.md §3.10 User record.
  User: record(`A user of an account (${REFERENCE}/user.html).`, {
    id: text(),
    accountId: text(),
    cloudId: text(),
    email: text(),
    first: text(),
    last: text(),
    role: text('user, admin or owner.'),
    activity: date('The last activity.'),
  }),
  // docs/ioto-api.md §3.10 GetRoles: an "Object Record" of undocumented shape.
  UserRoles: openRecord('The roles defined for users; Ioto does not document their shape.'),
  // docs/ioto-api.md §2.5 item 4, §3.5: "a signed URL string".
  SignedUrl: {
    type: 'string',
    description:
      'A signed URL to get, put or delete one file of the device. Whoever holds it can use it: it is a credential.',
  },
} as const satisfies Readonly<Record<string, JsonSchema>>;

/** The name of a record of {@link RECORD_SCHEMAS}: what an operation's answer holds. */
export type RecordName = keyof typeof RECORD_SCHEMAS;
