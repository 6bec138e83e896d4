import type { BodyPath, OperationScope } from '../catalog/types';
import { ValidationError } from '../problems/problem-error';

/**
 * Finds every place a request body names an Ioto account or device, as the operation's scope
 * declaration in the catalog says (docs/ioto-api.md §2.3: the CloudAPI token is an owner key over
 * every account, so each such value must be checked, not only the top-level ones).
 */

/** One value that names an account or a device, and where it is. */
export interface BodyReference {
  /** RFC 6901 JSON Pointer of the value in the body. */
  readonly pointer: string;
  /** As found: the policy decides what is acceptable (a string naming one of the partner's). */
  readonly value: unknown;
}

export interface BodyReferences {
  readonly accounts: readonly BodyReference[];
  readonly devices: readonly BodyReference[];
}

/** Keys that name devices inside free-form JSON, compared in lower case. */
const DEVICE_KEYS: ReadonlySet<string> = new Set(['deviceid', 'deviceids', 'device', 'devices']);
/** Keys that name accounts inside free-form JSON, compared in lower case. */
const ACCOUNT_KEYS: ReadonlySet<string> = new Set(['accountid', 'accountids']);

/** Keys one free-form object may hold, counted through all its levels. */
export const MAX_FREE_FORM_KEYS = 1000;
/** As deep as the body parser lets any body nest: the scan can never overflow the stack. */
export const MAX_FREE_FORM_DEPTH = 32;

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

const escapeToken = (token: string): string => token.replaceAll('~', '~0').replaceAll('/', '~1');

/** Every value at `path` in `value` (each element where the path says `[]`), with its pointer. */
function valuesAt(value: unknown, path: BodyPath, pointer: string, found: BodyReference[]): void {
  const [head, ...rest] = path;
  if (head === undefined) {
    found.push({ pointer, value });
    return;
  }
  if (head === '[]') {
    if (!Array.isArray(value)) return;
    value.forEach((item, index) => {
      valuesAt(item, rest, `${pointer}/${index}`, found);
    });
    return;
  }
  if (isPlainObject(value) && Object.hasOwn(value, head)) {
    valuesAt(value[head], rest, `${pointer}/${escapeToken(head)}`, found);
  }
}

/** A value under a naming key is one reference, or one per element of an array. */
function addNamed(value: unknown, pointer: string, into: BodyReference[]): void {
  if (Array.isArray(value)) {
    value.forEach((item, index) => {
      into.push({ pointer: `${pointer}/${index}`, value: item });
    });
  } else {
    into.push({ pointer, value });
  }
}

interface Scan {
  readonly region: string;
  keys: number;
  readonly accounts: BodyReference[];
  readonly devices: BodyReference[];
}

/** Walks one free-form value, collecting every naming key at any depth. */
function scanFreeForm(value: unknown, pointer: string, depth: number, scan: Scan): void {
  if (value === null || typeof value !== 'object') return;
  if (depth > MAX_FREE_FORM_DEPTH) {
    throw new ValidationError([
      { path: scan.region, message: `Nests deeper than ${MAX_FREE_FORM_DEPTH} levels` },
    ]);
  }
  if (Array.isArray(value)) {
    value.forEach((item, index) => {
      scanFreeForm(item, `${pointer}/${index}`, depth + 1, scan);
    });
    return;
  }
  const entries = Object.entries(value);
  scan.keys += entries.length;
  if (scan.keys > MAX_FREE_FORM_KEYS) {
    throw new ValidationError([
      { path: scan.region, message: `Holds more than ${MAX_FREE_FORM_KEYS} keys` },
    ]);
  }
  for (const [key, item] of entries) {
    const at = `${pointer}/${escapeToken(key)}`;
    const name = key.toLowerCase();
    if (DEVICE_KEYS.has(name)) addNamed(item, at, scan.devices);
    else if (ACCOUNT_KEYS.has(name)) addNamed(item, at, scan.accounts);
    scanFreeForm(item, at, depth + 1, scan);
  }
}

/** One reference per pointer: a declared field inside a free-form region is found twice. */
const unique = (references: readonly BodyReference[]): BodyReference[] => [
  ...new Map(references.map((reference) => [reference.pointer, reference])).values(),
];

/**
 * Every account and device a body names, per the operation's scope: the account selector, the
 * declared device fields, and inside each free-form region any key `deviceId`, `deviceIds`,
 * `Device`, `devices`, `accountId` or `accountIds` (any letter case) at any depth. Throws a
 * `ValidationError` for a free-form value over {@link MAX_FREE_FORM_KEYS} keys or
 * {@link MAX_FREE_FORM_DEPTH} levels.
 */
export function findReferences(scope: OperationScope, body: unknown): BodyReferences {
  const accounts: BodyReference[] = [];
  const devices: BodyReference[] = [];
  const named = (path: BodyPath, into: BodyReference[]) => {
    const found: BodyReference[] = [];
    valuesAt(body, path, '', found);
    for (const { pointer, value } of found) addNamed(value, pointer, into);
  };
  if (scope.account !== undefined) named(scope.account, accounts);
  for (const path of scope.devices ?? []) named(path, devices);
  for (const path of scope.freeForm ?? []) {
    const regions: BodyReference[] = [];
    valuesAt(body, path, '', regions);
    for (const region of regions) {
      const scan: Scan = { region: region.pointer, keys: 0, accounts, devices };
      scanFreeForm(region.value, region.pointer, 0, scan);
    }
  }
  return { accounts: unique(accounts), devices: unique(devices) };
}
