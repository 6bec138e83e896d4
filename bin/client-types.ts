/**
 * `npm run client:types`: writes client/src/openapi-types.ts, the TypeScript types of the
 * partner contract the client derives its operations from (client/README.md). With
 * `--stdout`, prints them instead (test/unit/client-types.test.ts compares them).
 */

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OPENAPI_TYPES_FILE, openApiTypesSource } from '../dev/client-types';
import packageJson from '../package.json';

const root = join(__dirname, '..');
void openApiTypesSource(root, packageJson.version).then((text) => {
  if (process.argv.includes('--stdout')) {
    process.stdout.write(text);
  } else {
    writeFileSync(join(root, OPENAPI_TYPES_FILE), text);
    process.stderr.write(`wrote ${OPENAPI_TYPES_FILE}\n`);
  }
});
