/**
 * Lists the devices of a partner through the gateway, page by page. With `npm start` running
 * in another terminal:
 *
 *   npx tsx client/examples/find-devices.ts
 *
 * `IOTO_BFF_URL` is the API (default `http://127.0.0.1:3000`, the local gateway);
 * `IOTO_BFF_TOKEN` an access token (default: `npm run --silent token -- acme`, the local
 * issuer's token for the development partner acme). Against a deployment, set both, or use
 * `clientCredentialsToken` as client/README.md shows.
 */
import { execFileSync } from 'node:child_process';
import { createIotoBffClient, IotoBffError } from '../index.js';

const baseUrl = process.env.IOTO_BFF_URL ?? 'http://127.0.0.1:3000';
const token =
  process.env.IOTO_BFF_TOKEN ??
  execFileSync('npm', ['run', '--silent', 'token', '--', 'acme'], { encoding: 'utf8' }).trim();

const client = createIotoBffClient({ baseUrl, token });

try {
  let count = 0;
  // acme has one account: the gateway sets `accountId`, so the body needs only the page size.
  for await (const device of client.paginate('device/find', { limit: 20 })) {
    count += 1;
    console.log(`${device.id}\t${device.product ?? ''}`);
  }
  console.log(`${count} devices`);
} catch (error) {
  if (!(error instanceof IotoBffError)) throw error;
  console.error(`${error.status} ${error.code}: ${error.detail} (request ${error.requestId})`);
  for (const field of error.errors) console.error(`  ${field.path}: ${field.message}`);
  process.exitCode = 1;
}
