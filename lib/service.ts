/**
 * The names ioto-bff appears under in logs and metrics, in one place. The stack passes them to
 * the functions as Powertools environment variables (constructs/bff-function.ts); the alarms and
 * dashboard that read the metrics (constructs/monitoring.ts) and the local gateway (dev/) use
 * the same names.
 */

/** The Powertools service name: `service` on every log line and a dimension of every metric. */
export const SERVICE_NAME = 'ioto-bff';

/** The CloudWatch namespace of the proxy's EMF metrics. */
export const METRICS_NAMESPACE = 'IotoBff';

/**
 * The CloudWatch namespace of one stack's metrics: stacks in the same account and region never
 * mix their metrics, and one stack's failures never fire another's alarms.
 */
export const metricsNamespaceOf = (stackName: string): string =>
  `${METRICS_NAMESPACE}/${stackName}`;
