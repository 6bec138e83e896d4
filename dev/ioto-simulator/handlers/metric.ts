import { DEVICE_SCHEMA } from '../device-schema';
import { badRequest } from '../errors';
import { type JsonObject, json, type OperationTable } from '../operation';
import { page } from '../paging';
import {
  isJsonObject,
  optionalBoolean,
  optionalNumber,
  optionalObject,
  optionalString,
  requireString,
} from '../request-fields';
import { SEED } from '../seed';
import type { SimulatorState } from '../state';

/**
 * Metric controller (docs/ioto-api.md §3.7). Metrics are not stored: every point is computed from
 * the device id, metric name and time, so answers are deterministic and cost no memory.
 */

const DEFAULT_PERIOD = 300;
/** "each [span] holding about 10–12 points" (ref §3.7). */
const POINTS_PER_PERIOD = 12;
/** Samples behind each point. */
const SAMPLES_PER_POINT = 5;
/** Point timestamps are seconds since 1970 in the Ioto docs (ref §2.6, §10.9). */
const SEED_EPOCH_SECONDS = Date.parse(SEED.epoch) / 1000;
const KNOWN_METRICS: ReadonlySet<string> = new Set(SEED.metricNames);

interface Point {
  readonly value: number;
  readonly timestamp: number;
  readonly count: number;
}

const round = (value: number): number => Math.round(value * 100) / 100;

/** A stable small number per device, so devices report different values. */
const deviceSalt = (deviceId: string): number =>
  [...deviceId].reduce((sum, char) => sum + char.charCodeAt(0), 0);

function baseValue(metric: string, salt: number, i: number): number {
  if (metric === 'online') return (salt + i) % 7 === 0 ? 0 : 1;
  if (metric === 'humidity') return 40 + ((salt * 3 + i * 11) % 30);
  return 18 + ((salt + i * 7) % 60) / 10;
}

/**
 * The value a statistic reports for one point. Unknown statistics are treated as `avg`: the
 * reference lists avg/min/max/count/sum, the Builder adds `current` (ref §10.10).
 */
function statisticValue(statistic: string, base: number): number {
  switch (statistic) {
    case 'min':
      return base - 0.5;
    case 'max':
      return base + 0.5;
    case 'sum':
      return base * SAMPLES_PER_POINT;
    case 'count':
      return SAMPLES_PER_POINT;
    default:
      return base;
  }
}

/** One MetricResult (ref §3.7) for one Metric Request of `metric/fetch`. */
function metricResult(deviceId: string, request: unknown): Record<string, unknown> {
  if (!isJsonObject(request)) throw badRequest('Invalid property "items"');
  const namespace = requireString(request, 'namespace');
  if (namespace !== SEED.metricNamespace) throw badRequest('Invalid property "namespace"');
  const metric = optionalString(request, 'metric') ?? SEED.metricName;
  const statistic = optionalString(request, 'statistic') ?? 'avg';
  const period = optionalNumber(request, 'period') ?? DEFAULT_PERIOD;
  if (period <= 0) throw badRequest('Invalid property "period"');
  const start = optionalNumber(request, 'start') ?? SEED_EPOCH_SECONDS;
  const limit = optionalNumber(request, 'limit') ?? POINTS_PER_PERIOD;
  const accumulate = optionalBoolean(request, 'accumulate') ?? false;
  const dimensions = optionalObject(request, 'dimensions') ?? { Device: deviceId };
  const result = { namespace, metric, dimensions, owner: 'Embedthis', period, statistic };
  if (!KNOWN_METRICS.has(metric)) {
    // MetricResult has an `error` field (ref §3.7): an unknown metric is reported there.
    return { ...result, error: 'Unknown metric', points: [], samples: 0 };
  }
  const salt = deviceSalt(deviceId);
  const step = Math.max(1, Math.round(period / POINTS_PER_PERIOD));
  let points: Point[] = Array.from({ length: POINTS_PER_PERIOD }, (_, i) => ({
    value: round(statisticValue(statistic, baseValue(metric, salt, i))),
    timestamp: Math.round(start) + i * step,
    count: SAMPLES_PER_POINT,
  }));
  points = points.slice(Math.max(0, points.length - Math.max(0, Math.trunc(limit))));
  if (accumulate && points.length > 0) {
    const total = points.reduce((sum, point) => sum + point.value, 0);
    points = [
      {
        value: round(statistic === 'sum' || statistic === 'count' ? total : total / points.length),
        timestamp: points[0]?.timestamp ?? start,
        count: points.length * SAMPLES_PER_POINT,
      },
    ];
  }
  return { ...result, points, samples: points.reduce((sum, point) => sum + point.count, 0) };
}

/** `cloudId` names the one simulated cloud; anything else is 400. */
function checkCloud(state: SimulatorState, body: JsonObject, required: boolean): void {
  const cloudId = required ? requireString(body, 'cloudId') : optionalString(body, 'cloudId');
  if (cloudId !== undefined && cloudId !== state.cloudId) throw badRequest('Cannot find cloud');
}

export const METRIC_OPERATIONS: OperationTable = {
  /**
   * Paged over the MetricResults, one per Metric Request (ref §3.7). The sample sends
   * `accountId` beside `deviceId`; the device must belong to that account (or the owner's).
   */
  fetch: (state, { body, query }) => {
    const account = state.account(body);
    const deviceId = requireString(body, 'deviceId');
    state.deviceInAccount(account, deviceId);
    const items = body.items;
    if (!Array.isArray(items)) throw badRequest('Missing required property "items"');
    const results = items.map((request) => metricResult(deviceId, request));
    return json(
      page(
        {
          pk: `device#${deviceId}`,
          skPrefix: 'metric#',
          entries: results.map((value, index) => ({
            sk: `metric#${String(index).padStart(6, '0')}`,
            value,
          })),
        },
        query,
      ),
    );
  },

  getDeviceSchema: (state, { body }) => {
    checkCloud(state, body, false);
    return json(DEVICE_SCHEMA);
  },

  /**
   * Without `namespace` it lists namespaces; with one, metrics; with a metric too, dimensions
   * (ref §3.7). The listed paging options are ignored: the answer is one object, not a list.
   */
  getMetricList: (state, { body }) => {
    checkCloud(state, body, true);
    const namespace = optionalString(body, 'namespace');
    const metric = optionalString(body, 'metric');
    optionalString(body, 'model');
    const known = namespace === SEED.metricNamespace;
    const dimensions =
      known && metric !== undefined && KNOWN_METRICS.has(metric)
        ? [...state.data.devices.keys()].sort().map((id) => ({ Device: id }))
        : [];
    return json({
      namespaces: namespace === undefined ? [SEED.metricNamespace] : known ? [namespace] : [],
      metrics: known && metric === undefined ? [...SEED.metricNames] : [],
      dimensions,
    });
  },
};
