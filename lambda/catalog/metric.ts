/**
 * Metric operations over HTTP (docs/ioto-api.md §3.7). `metric/get` and `metric/set` are MQTT-only
 * device calls (§5) and are deliberately absent.
 */
import {
  array,
  boolean,
  maxLength,
  minLength,
  number,
  optional,
  strictObject,
} from '../config/zod';
import {
  accountId,
  cloudId,
  count,
  deviceId,
  freeText,
  jsonObject,
  seconds,
  statistic,
} from './fields';
import type { OperationDeclaration } from './types';

/**
 * One Metric Request, an element of `items` (§3.7). Its `limit` is the number of points for
 * this metric, not the page size, so it stays. `namespace` is documented as "must be
 * Embedthis/Device" but kept a string: getMetricList exists to list other namespaces.
 */
const metricRequest = () =>
  strictObject({
    accumulate: optional(boolean()),
    cloudId: optional(cloudId),
    dimensions: optional(jsonObject),
    field: optional(freeText),
    limit: optional(count),
    metric: optional(freeText),
    model: optional(freeText),
    namespace: freeText,
    period: optional(seconds),
    start: optional(number()),
    // Req with default `avg` in the reference (§3.7): a call without it is valid for Ioto, whose
    // default then applies. The proxy adds no default of its own: it forwards what it validated.
    statistic: optional(statistic),
  });

/** The three HTTP Metric operations. */
export const metricOperations: readonly OperationDeclaration[] = [
  {
    controller: 'metric',
    operation: 'fetch',
    summary: 'Fetch metric data points of a device.',
    // `accountId` is not in the body table but the vendor sample get-metric.sh sends it (§3.7).
    request: () =>
      strictObject({
        // Ioto gives no bound; 20 metrics a call is ours, to keep one request's work bounded.
        items: array(metricRequest()).check(minLength(1), maxLength(20)),
        deviceId,
        accountId: optional(accountId),
      }),
    paged: true,
    response: 'list',
    record: 'MetricResult',
    retrySafe: true,
    iotoRole: 'user',
    sensitivity: 'read',
    mutates: false,
    scope: {
      accountScoping: {
        basis: 'documented',
        source: '§3.7: the vendor sample get-metric.sh sends `accountId`',
      },
      account: ['accountId'],
      // A dimension names the device whose metrics are read (docs/ioto-api.md §3.7, §5 metric/set).
      devices: [['deviceId'], ['items', '[]', 'dimensions', 'Device']],
      freeForm: [['items', '[]', 'dimensions']],
    },
  },
  {
    controller: 'metric',
    operation: 'getDeviceSchema',
    summary: 'Get the device schema of a cloud.',
    request: () => strictObject({ cloudId: optional(cloudId) }),
    paged: false,
    response: 'record',
    record: 'DeviceSchema',
    retrySafe: true,
    iotoRole: 'user',
    sensitivity: 'read',
    mutates: false,
    scope: {},
  },
  {
    controller: 'metric',
    operation: 'getMetricList',
    summary: 'List the metric namespaces, the metrics of a namespace, or their dimensions.',
    // The page lists paging query options, but the answer is one object of three lists (§3.7).
    request: () =>
      strictObject({
        cloudId,
        namespace: optional(freeText),
        metric: optional(freeText),
        model: optional(freeText),
      }),
    paged: false,
    response: 'record',
    record: 'MetricList',
    retrySafe: true,
    iotoRole: 'user',
    sensitivity: 'read',
    mutates: false,
    scope: {},
  },
];
