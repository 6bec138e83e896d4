/**
 * `npm run --silent token -- <partnerId>`: prints only an access token of the local issuer for
 * that partner. A running `npm start` in the same checkout accepts it for an hour.
 */
import { tokenCommand } from '../dev/local-gateway/token-command';

void tokenCommand(process.argv.slice(2)).then(({ stdout, stderr, exitCode }) => {
  if (stdout !== undefined) process.stdout.write(stdout);
  if (stderr !== undefined) process.stderr.write(stderr);
  process.exitCode = exitCode;
});
