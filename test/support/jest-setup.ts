// Runs before every test file: keep Powertools quiet and deterministic under jest.
import { METRICS_NAMESPACE, SERVICE_NAME } from '../../lib/service';

process.env.POWERTOOLS_SERVICE_NAME ??= SERVICE_NAME;
process.env.POWERTOOLS_TRACE_DISABLED = 'true';
process.env.POWERTOOLS_METRICS_NAMESPACE ??= METRICS_NAMESPACE;
