/**
 * `npm run probe`: read-only checks of a real Ioto cloud before go-live, configured like
 * `npm start` (IOTO_ENDPOINT, IOTO_TOKEN_FILE, IOTO_AUTH_SCHEME, IOTO_ORIGIN); without
 * IOTO_ENDPOINT it probes the embedded simulator. One line per check (PASS, FAIL or UNKNOWN);
 * exits 1 on any FAIL, 2 when it cannot run, 0 otherwise. See probe.ts for the checks.
 */
import { runProbeCommand } from './probe-command';

runProbeCommand(process.env, (line) => process.stdout.write(`${line}\n`)).then(
  (code) => process.exit(code),
  () => process.exit(2),
);
