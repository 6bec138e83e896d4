import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SEED } from '../../dev/ioto-simulator';
import { LOCAL_ISSUER } from '../../dev/local-issuer';
import { hasAssumedScope } from '../../lambda/catalog/grants';
import { catalog, operationKey } from '../../lambda/catalog/index';
import {
  type AccessConfig,
  parseAccessConfig,
  parseAccessConfigJson,
} from '../../lambda/config/access';

/** The gateway scope of every test configuration. */
export const TEST_SCOPE = 'ioto-bff/partner-api';

/** Every operation whose account scoping is assumed: a partner granted them all accepts these. */
export const ASSUMED_SCOPE_OPERATIONS: readonly string[] = catalog
  .filter(hasAssumedScope)
  .map(operationKey);

/**
 * A configuration with one partner, `tester`, granted every catalog operation by exact name on
 * one account (accepting every assumed account scoping): the contract tests run as it.
 */
export function fullAccessConfig(accountId: string): AccessConfig {
  return parseAccessConfig({
    scope: TEST_SCOPE,
    issuers: [{ issuer: LOCAL_ISSUER }],
    partners: [
      {
        id: 'tester',
        operations: catalog.map(operationKey),
        acceptAssumedScope: ASSUMED_SCOPE_OPERATIONS,
        accounts: [accountId],
        actions: [...SEED.actionNames],
        identity: { issuer: LOCAL_ISSUER, clientId: 'tester-client' },
      },
    ],
  });
}

/** The development access configuration `npm start` ships with (acme, globex, initech). */
export function devAccessConfig(): AccessConfig {
  const file = join(__dirname, '..', '..', 'dev', 'dev-access.json');
  return parseAccessConfigJson(readFileSync(file, 'utf8'), file);
}

/** Seconds since the epoch, as JWT times are written. */
export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/**
 * The claims of a valid access token of globex from the local issuer, with `overrides` applied
 * (`undefined` removes a claim): the starting point of every bad-token case.
 */
export const globexClaims = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
  iss: LOCAL_ISSUER,
  sub: 'globex-local-client',
  client_id: 'globex-local-client',
  scope: TEST_SCOPE,
  token_use: 'access',
  iat: nowSeconds(),
  exp: nowSeconds() + 600,
  ...overrides,
});
