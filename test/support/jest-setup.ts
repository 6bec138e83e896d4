// Runs before every test file: keep Powertools quiet and deterministic under jest.
process.env.POWERTOOLS_SERVICE_NAME ??= 'ioto-bff';
process.env.POWERTOOLS_TRACE_DISABLED = 'true';
process.env.POWERTOOLS_METRICS_NAMESPACE ??= 'IotoBff';
