import { randomBytes } from 'node:crypto';
import { findOperation, type OperationKey } from '../../lambda/catalog/index';
import { iotoOrigin } from '../../lambda/config/origin';
import type { UpstreamCursor, UpstreamQuery } from '../../lambda/paging/upstream-query';
import type { NormalizedReply } from '../../lambda/proxy/normalize-response';
import type { Transport } from '../../lambda/upstream/http-transport';
import type { AuthScheme } from '../../lambda/upstream/ioto-client';
import {
  type Answered,
  accountOf,
  describeOutcome,
  idOf,
  isAnswered,
  isAuthRefusal,
  isSuccess,
  itemKey,
  itemsOf,
  passedAuth,
  proxyReading,
  rawCursorMember,
  scrubberOf,
  shapeOf,
} from './answers';
import { ownershipVerdict } from './ownership-check';
import { ReadOnlyCaller, type ReadOutcome } from './read-only-caller';

/**
 * `npm run probe` as a library: read-only checks of every assumption the proxy makes about the
 * parts of Ioto its reference leaves open (docs/ioto-api.md §10: the auth scheme, `Origin`, the
 * envelope, the paging cursor and its round trip, the last page, error answers, and whether
 * `accountId` narrows lists). Each check reports PASS (the cloud behaves as the proxy needs),
 * FAIL (it does not: the proxy would refuse answers, lose pages or misread errors), or UNKNOWN
 * (the cloud's data or answers cannot tell). Where the proxy has code that decides, the check
 * runs that code (`normalizeReply`, the ownership check, `encodeUpstreamQuery`, the proxy's
 * message cleaner) rather than restating it.
 */

export type ProbeStatus = 'PASS' | 'FAIL' | 'UNKNOWN';

export interface ProbeResult {
  /** What is checked, e.g. `paging round trip`; the same set of checks on every run. */
  readonly check: string;
  readonly status: ProbeStatus;
  /** One line of explanation; never holds the token. */
  readonly detail: string;
}

export interface ProbeOptions {
  /** Base URL of the device cloud API, without `/tok`. */
  readonly endpoint: URL;
  /** The CloudAPI token; it appears in no result. */
  readonly token: string;
  /** The configured `IOTO_AUTH_SCHEME`. */
  readonly authScheme: AuthScheme;
  /** The configured `IOTO_ORIGIN`, if any. */
  readonly origin?: string;
  /** Deadline of each call. @default 8000 (the proxy's `UPSTREAM_TIMEOUT_MS` default) */
  readonly callTimeoutMs?: number;
  /** Deadline of the whole run: calls not made by then fail. @default 120000 */
  readonly deadlineMs?: number;
  /** Larger answers are not read. @default 1048576 */
  readonly maxResponseBytes?: number;
  /** @default Node's HTTP client, as the proxy's */
  readonly transport?: Transport;
}

export interface ProbeReport {
  readonly results: readonly ProbeResult[];
  /** How many calls were made. */
  readonly calls: number;
  /** Whether any result is FAIL (the command then exits non-zero). */
  readonly failed: boolean;
}

/** The checks whose answers the envelope lines report, in the order they are printed. */
const ENVELOPE_OPERATIONS = [
  'account/get',
  'account/find',
  'device/find',
  'device/get',
  'alert/find',
  'dashboard/find',
  'user/find',
  'generic/find',
] as const satisfies readonly OperationKey[];

/** The list operations whose `accountId` selector the probe compares across two accounts. */
const NARROWED_OPERATIONS = [
  'alert/find',
  'dashboard/find',
  'user/find',
  'generic/find',
] as const satisfies readonly OperationKey[];

/** Every check, in the order printed. */
export const PROBE_CHECKS: readonly string[] = [
  'auth scheme',
  'origin',
  'error: refused token',
  ...ENVELOPE_OPERATIONS.map((op) => `envelope ${op}`),
  'paging cursor',
  'paging round trip',
  'paging last page',
  'error: unknown device',
  ...NARROWED_OPERATIONS.map((op) => `accountId ${op}`),
];

/** The page size of the paging walk: three pages need five devices in one account. */
const WALK_LIMIT = 2;
/** Accounts whose devices are listed while looking for one with three pages. */
const MAX_ACCOUNTS_SCANNED = 10;
/** Page size of the lists compared between two accounts. */
const COMPARE_LIMIT = 25;
/** Generic models tried for generic/find (Store is how REST clients reach the store, ref §3.9). */
const GENERIC_TYPES = ['Store', 'Device'] as const;

const DEFAULT_CALL_TIMEOUT_MS = 8_000;
const DEFAULT_DEADLINE_MS = 120_000;
const DEFAULT_MAX_RESPONSE_BYTES = 1_048_576;

const otherScheme = (scheme: AuthScheme): AuthScheme => (scheme === 'raw' ? 'bearer' : 'raw');
const schemeHeader = (scheme: AuthScheme): string =>
  scheme === 'raw' ? 'Authorization: <token>' : 'Authorization: bearer <token>';

/** A made-up id no cloud holds: a probe's own, random each run. */
const madeUpId = (): string => `PROBE${randomBytes(6).toString('hex').toUpperCase()}`;

const definitionOf = (operation: OperationKey) => {
  const [controller = '', name = ''] = operation.split('/');
  const definition = findOperation(controller, name);
  if (definition === undefined) throw new Error(`The catalog has no ${operation}`);
  return definition;
};

/** One list page as the proxy reads it. */
interface Page {
  readonly outcome: Answered;
  readonly reply: NormalizedReply;
  readonly keys: readonly string[];
}

/** A successful answer kept for the envelope lines, with the request it answered. */
interface KeptAnswer {
  readonly answer: Answered;
  readonly body: Readonly<Record<string, unknown>>;
}

class ProbeRun {
  readonly #caller: ReadOnlyCaller;
  readonly #options: ProbeOptions;
  readonly #scrub: (text: string) => string;
  readonly #results = new Map<string, ProbeResult>();
  readonly #answers = new Map<OperationKey, KeptAnswer[]>();
  #origin: string | undefined;
  #scheme: AuthScheme | undefined;
  #accounts: string[] = [];
  /** Accounts seen with devices, and one device of the first. */
  #accountsWithDevices: string[] = [];
  #sampleDevice: { readonly account: string; readonly device: string } | undefined;

  constructor(caller: ReadOnlyCaller, options: ProbeOptions) {
    this.#caller = caller;
    this.#options = options;
    this.#scrub = scrubberOf(options.token);
  }

  async run(): Promise<ProbeResult[]> {
    this.#checkOriginSetting();
    await this.#checkAuth();
    if (this.#scheme !== undefined) {
      await this.#checkOrigin();
      await this.#checkRefusedToken();
      await this.#findAccounts();
      await this.#checkPaging();
      await this.#checkDeviceGet();
      await this.#checkUnknownDevice();
      await this.#checkNarrowing();
      await this.#checkEnvelopes();
    }
    return PROBE_CHECKS.map(
      (check) =>
        this.#results.get(check) ?? {
          check,
          status: 'UNKNOWN',
          detail: 'not checked: Ioto accepted no call (see auth scheme)',
        },
    );
  }

  /** Records a check's result; the first report of a check stands (later ones add nothing). */
  #report(check: string, status: ProbeStatus, detail: string): void {
    if (!this.#results.has(check))
      this.#results.set(check, { check, status, detail: this.#scrub(detail) });
  }

  #describe(outcome: ReadOutcome): string {
    return describeOutcome(outcome, this.#options.token);
  }

  /** One read with the working scheme and the configured origin; 2xx answers are kept. */
  async #read(
    operation: OperationKey,
    body: Readonly<Record<string, unknown>>,
    query: UpstreamQuery = {},
    overrides: { scheme?: AuthScheme; origin?: string | null; token?: string } = {},
  ): Promise<ReadOutcome> {
    const origin = overrides.origin === null ? undefined : (overrides.origin ?? this.#origin);
    const outcome = await this.#caller.read({
      operation,
      body,
      query,
      scheme: overrides.scheme ?? this.#scheme ?? this.#options.authScheme,
      ...(origin !== undefined && { origin }),
      ...(overrides.token !== undefined && { token: overrides.token }),
    });
    if (isSuccess(outcome) && overrides.token === undefined) {
      const kept = this.#answers.get(operation) ?? [];
      kept.push({ answer: outcome, body });
      this.#answers.set(operation, kept);
    }
    return outcome;
  }

  /** A list page as the proxy reads it, or undefined when it is refused or unreadable. */
  async #page(
    operation: OperationKey,
    body: Readonly<Record<string, unknown>>,
    query: UpstreamQuery,
  ): Promise<{ page?: Page; outcome: ReadOutcome }> {
    const outcome = await this.#read(operation, body, query);
    if (!isSuccess(outcome)) return { outcome };
    const reading = proxyReading(definitionOf(operation), outcome);
    if (!reading.ok) return { outcome };
    return {
      outcome,
      page: { outcome, reply: reading.reply, keys: itemsOf(reading.reply).map(itemKey) },
    };
  }

  /** The origin check of the deployment configuration (lambda/config/origin.ts). */
  #checkOriginSetting(): void {
    const { origin } = this.#options;
    if (origin === undefined) return;
    if (iotoOrigin.safeParse(origin).success) {
      this.#origin = origin;
      return;
    }
    this.#report(
      'origin',
      'FAIL',
      'IOTO_ORIGIN is not an https origin (https://host[:port], no path): the proxy would not start with it; the probe sends no Origin',
    );
  }

  async #checkAuth(): Promise<void> {
    const configured = this.#options.authScheme;
    const other = otherScheme(configured);
    const mine = await this.#read('account/get', {}, {}, { scheme: configured });
    const theirs = await this.#read('account/get', {}, {}, { scheme: other });
    const both = `${configured}: ${this.#describe(mine)}; ${other}: ${this.#describe(theirs)}`;
    if (passedAuth(mine)) {
      this.#scheme = configured;
      this.#report(
        'auth scheme',
        'PASS',
        `IOTO_AUTH_SCHEME=${configured} (${schemeHeader(configured)}) is accepted; ${other} is ${passedAuth(theirs) ? 'accepted too' : 'not'} (account/get, ${both})`,
      );
      return;
    }
    if (passedAuth(theirs)) this.#scheme = other;
    const originHint =
      this.#origin === undefined ? '; if the cloud asks for an Origin header, set IOTO_ORIGIN' : '';
    if (isAuthRefusal(mine) && passedAuth(theirs)) {
      this.#report(
        'auth scheme',
        'FAIL',
        `IOTO_AUTH_SCHEME=${configured} is refused but ${other} is accepted: set IOTO_AUTH_SCHEME=${other} (account/get, ${both})`,
      );
    } else if (isAuthRefusal(mine) && isAuthRefusal(theirs)) {
      this.#report(
        'auth scheme',
        'FAIL',
        `the token is refused with both schemes: check IOTO_TOKEN_FILE${originHint} (account/get, ${both})`,
      );
    } else {
      this.#report(
        'auth scheme',
        'FAIL',
        `no usable answer with IOTO_AUTH_SCHEME=${configured}: check IOTO_ENDPOINT (account/get, ${both})`,
      );
    }
    if (this.#scheme === undefined && this.#origin === undefined) {
      this.#report(
        'origin',
        'UNKNOWN',
        'every call without an Origin header was refused, so this cannot tell whether the cloud wants one; if it does, set IOTO_ORIGIN (the device app origin) and run again',
      );
    }
  }

  async #checkOrigin(): Promise<void> {
    if (this.#origin === undefined) {
      this.#report(
        'origin',
        'PASS',
        'not needed: the cloud answers calls without an Origin header (IOTO_ORIGIN is unset)',
      );
      return;
    }
    const without = await this.#read('account/get', {}, {}, { origin: null });
    if (passedAuth(without)) {
      this.#report(
        'origin',
        'PASS',
        `not needed: the cloud answers without an Origin header too; IOTO_ORIGIN=${this.#origin} is sent and accepted`,
      );
    } else if (isAuthRefusal(without)) {
      this.#report(
        'origin',
        'PASS',
        `needed: without an Origin header the cloud refuses (${this.#describe(without)}); with IOTO_ORIGIN=${this.#origin} it answers`,
      );
    } else {
      this.#report(
        'origin',
        'UNKNOWN',
        `the call without an Origin header got ${this.#describe(without)}`,
      );
    }
  }

  async #checkRefusedToken(): Promise<void> {
    const check = 'error: refused token';
    const outcome = await this.#read('account/get', {}, {}, { token: madeUpId() });
    const seen = `a made-up token gets ${this.#describe(outcome)}`;
    if (!isAnswered(outcome)) {
      this.#report(check, 'UNKNOWN', seen);
    } else if (isAuthRefusal(outcome)) {
      this.#report(
        check,
        'PASS',
        `${seen}: the proxy takes 401 and 403 for a refused token (one token refresh, then 502 upstream_auth_failed, alarmed)`,
      );
    } else if (outcome.status >= 200 && outcome.status < 300) {
      this.#report(
        check,
        'FAIL',
        `${seen}: the cloud answered a call with a token it never issued`,
      );
    } else {
      this.#report(
        check,
        'FAIL',
        `${seen}: the proxy takes only 401 and 403 for a refused token, so a revoked token would not be refreshed and reported as upstream_auth_failed`,
      );
    }
  }

  /** The accounts account/find and account/get show, the caller's own first. */
  async #findAccounts(): Promise<void> {
    const seen = new Set<string>();
    const own = this.#answers.get('account/get')?.[0];
    if (own !== undefined) {
      const reading = proxyReading(definitionOf('account/get'), own.answer);
      const id = reading.ok ? idOf(reading.reply.data) : undefined;
      if (id !== undefined) seen.add(id);
    }
    const found = await this.#page('account/find', {}, { limit: COMPARE_LIMIT });
    for (const item of found.page ? itemsOf(found.page.reply) : []) {
      const id = idOf(item);
      if (id !== undefined) seen.add(id);
    }
    this.#accounts = [...seen];
  }

  async #checkPaging(): Promise<void> {
    let first: { account: string; page: Page; next: UpstreamCursor } | undefined;
    let missingCursor: { account: string; more: number } | undefined;
    const refusals: string[] = [];
    for (const account of this.#accounts.slice(0, MAX_ACCOUNTS_SCANNED)) {
      const { page, outcome } = await this.#page(
        'device/find',
        { accountId: account },
        { limit: WALK_LIMIT },
      );
      if (page === undefined) {
        refusals.push(this.#describe(outcome));
        continue;
      }
      const items = itemsOf(page.reply);
      const device = idOf(items[0]);
      if (device !== undefined) {
        this.#accountsWithDevices.push(account);
        this.#sampleDevice ??= { account, device };
      }
      if (page.reply.next !== undefined) {
        first = { account, page, next: page.reply.next };
        break;
      }
      if (items.length >= WALK_LIMIT && missingCursor === undefined) {
        // A full page and no cursor: is it the last page, or does the cloud give no cursors?
        const wider = await this.#page(
          'device/find',
          { accountId: account },
          { limit: WALK_LIMIT * 3 },
        );
        const more = wider.page ? itemsOf(wider.page.reply).length : 0;
        if (more > items.length) missingCursor = { account, more };
      }
    }
    const scanned = Math.min(this.#accounts.length, MAX_ACCOUNTS_SCANNED);
    if (first === undefined && missingCursor !== undefined) {
      this.#report(
        'paging cursor',
        'FAIL',
        `none: device/find with ?limit=${WALK_LIMIT} answered a full page without a next cursor although the account has more devices (${missingCursor.more} at ?limit=${WALK_LIMIT * 3}), so the proxy would never offer a next page`,
      );
      this.#report(
        'paging round trip',
        'FAIL',
        'impossible without a next cursor (see paging cursor)',
      );
    } else if (first === undefined) {
      const detail = `no device list with a next page at ?limit=${WALK_LIMIT} in the ${scanned} account(s) looked at${refusals.length > 0 ? ` (device/find: ${refusals[0]})` : ''}: needs an account with at least ${2 * WALK_LIMIT + 1} devices`;
      this.#report('paging cursor', 'UNKNOWN', detail);
      this.#report('paging round trip', 'UNKNOWN', detail);
    } else {
      this.#reportCursor(first.page);
      await this.#walk(first.account, first.page, first.next);
    }
    await this.#checkLastPage();
  }

  #reportCursor(page: Page): void {
    const raw = rawCursorMember(page.outcome.text, 'next');
    const value = raw.present ? raw.value : undefined;
    const kind =
      typeof value === 'string'
        ? `an opaque string (${value.length} characters), which the proxy sends back unchanged, percent-encoded (?next=...)`
        : value !== null && typeof value === 'object'
          ? `a key object {${Object.keys(value).join(', ')}}, which the proxy sends back as its JSON text, percent-encoded (?next=%7B...)`
          : `${JSON.stringify(value)}`;
    this.#report('paging cursor', 'PASS', `device/find's next cursor is ${kind}`);
  }

  /**
   * Three pages forward with `next`, two back with `prev`, each cursor taken as the proxy reads
   * it (`normalizeReply`) and sent back as the proxy writes it (`encodeUpstreamQuery`).
   */
  async #walk(account: string, first: Page, next: UpstreamCursor): Promise<void> {
    const check = 'paging round trip';
    const body = { accountId: account };
    const step = async (direction: 'next' | 'prev', cursor: UpstreamCursor, from: string) => {
      const query: UpstreamQuery = { limit: WALK_LIMIT, [direction]: cursor };
      const { page, outcome } = await this.#page('device/find', body, query);
      if (page !== undefined) return page;
      const hint = await this.#bodyCursorHint(body, direction, cursor, first.keys);
      this.#report(
        check,
        'FAIL',
        `the cloud refused its own ${direction} cursor of ${from}, sent back as the proxy sends it (on the query string, lambda/paging/upstream-query.ts): ${this.#describe(outcome)}${hint}`,
      );
      return undefined;
    };
    const firstKeys = first.keys;
    if (firstKeys.length > WALK_LIMIT) {
      this.#report(
        check,
        'FAIL',
        `device/find ignored ?limit=${WALK_LIMIT}: its first page holds ${firstKeys.length} items`,
      );
      return;
    }
    const second = await step('next', next, 'page 1');
    if (second === undefined) return;
    if (second.keys.some((key) => firstKeys.includes(key)) || second.keys.length === 0) {
      const hint = await this.#bodyCursorHint(body, 'next', next, firstKeys);
      this.#report(
        check,
        'FAIL',
        `page 2 (after ?next=) ${second.keys.length === 0 ? 'is empty although page 1 had a next cursor' : 'repeats items of page 1: the cloud ignored the cursor'}${hint}`,
      );
      return;
    }
    if (second.reply.next === undefined) {
      this.#report(
        check,
        'UNKNOWN',
        `page 2 came back right but ends the list: needs an account with at least ${2 * WALK_LIMIT + 1} devices for a third page`,
      );
      return;
    }
    const third = await step('next', second.reply.next, 'page 2');
    if (third === undefined) return;
    if (third.keys.some((key) => firstKeys.includes(key) || second.keys.includes(key))) {
      this.#report(check, 'FAIL', 'page 3 repeats items of pages 1 and 2');
      return;
    }
    if (third.reply.prev === undefined) {
      this.#report(check, 'FAIL', 'page 3 has no prev cursor: partners could not page back');
      return;
    }
    const back2 = await step('prev', third.reply.prev, 'page 3');
    if (back2 === undefined) return;
    if (!sameKeys(back2.keys, second.keys)) {
      this.#report(check, 'FAIL', 'going back from page 3 with prev did not give page 2 again');
      return;
    }
    if (back2.reply.prev === undefined) {
      this.#report(check, 'FAIL', 'page 2, reached backwards, has no prev cursor');
      return;
    }
    const back1 = await step('prev', back2.reply.prev, 'page 2');
    if (back1 === undefined) return;
    if (!sameKeys(back1.keys, firstKeys)) {
      this.#report(check, 'FAIL', 'going back from page 2 with prev did not give page 1 again');
      return;
    }
    const firstPrev = first.reply.prev === undefined ? '' : '; note: page 1 carries a prev cursor';
    this.#report(
      check,
      'PASS',
      `device/find at ?limit=${WALK_LIMIT}: three pages forward with next and two back with prev, each cursor sent back as the proxy encodes it, gave the same items in the same order${firstPrev}`,
    );
  }

  /**
   * After a failed round trip: whether the cloud takes the cursor in the JSON body instead (the
   * other reading of docs/ioto-api.md §10.1). One more device/find, read-only like every call.
   */
  async #bodyCursorHint(
    body: Readonly<Record<string, unknown>>,
    direction: 'next' | 'prev',
    cursor: UpstreamCursor,
    firstKeys: readonly string[],
  ): Promise<string> {
    const { page } = await this.#page(
      'device/find',
      { ...body, [direction]: cursor },
      { limit: WALK_LIMIT },
    );
    if (page === undefined || page.keys.length === 0) return '';
    if (direction === 'next' && page.keys.some((key) => firstKeys.includes(key))) return '';
    return `. Sent in the JSON body instead, the same cursor was accepted: this cloud wants cursors in the body, which lambda/paging/upstream-query.ts would have to write`;
  }

  async #checkLastPage(): Promise<void> {
    const check = 'paging last page';
    const sample = this.#sampleDevice;
    if (sample === undefined) {
      this.#report(check, 'UNKNOWN', 'no device found to list on its own');
      return;
    }
    const body = { accountId: sample.account, id: sample.device };
    const { page, outcome } = await this.#page('device/find', body, { limit: WALK_LIMIT });
    if (page === undefined) {
      this.#report(
        check,
        'UNKNOWN',
        `device/find of one device by id got ${this.#describe(outcome)}`,
      );
      return;
    }
    if (page.keys.length !== 1) {
      this.#report(
        check,
        'UNKNOWN',
        `device/find with an id filter answered ${page.keys.length} items, not the one device: no page known to be the last`,
      );
      return;
    }
    if (shapeOf(page.outcome.text).kind !== 'page') {
      this.#report(
        check,
        'UNKNOWN',
        'the answer is not a {data, next, prev} page (see envelope device/find)',
      );
      return;
    }
    const raw = rawCursorMember(page.outcome.text, 'next');
    if (page.reply.next === undefined) {
      const how = raw.present ? `next: ${JSON.stringify(raw.value)}` : 'no next member';
      this.#report(
        check,
        'PASS',
        `a page that ends the list has ${how}; the proxy then answers nextPageToken: null`,
      );
      return;
    }
    const after = await this.#page('device/find', body, {
      limit: WALK_LIMIT,
      next: page.reply.next,
    });
    if (
      after.page !== undefined &&
      after.page.keys.length === 0 &&
      after.page.reply.next === undefined
    ) {
      this.#report(
        check,
        'PASS',
        'the end is signalled one page late: the page holding the last item still has a next cursor, and the page after it is empty without one (partners get one empty page)',
      );
      return;
    }
    this.#report(
      check,
      after.page === undefined ? 'UNKNOWN' : 'FAIL',
      after.page === undefined
        ? `a one-item list carries a next cursor, and following it got ${this.#describe(after.outcome)}`
        : 'a one-item list carries a next cursor and the page after it still has one: the cloud never signals the end',
    );
  }

  /** device/get of a real device, for its envelope and the ownership check. */
  async #checkDeviceGet(): Promise<void> {
    const sample = this.#sampleDevice;
    if (sample === undefined) return;
    await this.#read('device/get', { id: sample.device, accountId: sample.account });
  }

  async #checkUnknownDevice(): Promise<void> {
    const check = 'error: unknown device';
    const account = this.#sampleDevice?.account ?? this.#accounts[0];
    const outcome = await this.#read('device/get', {
      id: madeUpId(),
      ...(account !== undefined && { accountId: account }),
    });
    const seen = `device/get of a made-up id gets ${this.#describe(outcome)}`;
    if (!isAnswered(outcome)) {
      this.#report(check, 'UNKNOWN', seen);
      return;
    }
    const { status } = outcome;
    const type = outcome.contentType.split(';')[0]?.trim().toLowerCase() ?? '';
    const body =
      type === 'text/plain'
        ? 'a text/plain message, as documented'
        : /\bjson\b/.test(type)
          ? 'JSON (the proxy reads an {error} member as the message)'
          : `${type || 'no content type'} (the proxy reads no message from it)`;
    if (status === 400 || status === 409 || status === 422) {
      this.#report(
        check,
        'PASS',
        `${seen}: ${body}; the proxy answers 400 upstream_rejected, with its neutral detail for tenant data`,
      );
    } else if (status >= 200 && status < 300) {
      this.#report(check, 'UNKNOWN', `${seen}: no error to inspect`);
    } else if (status === 401 || status === 403) {
      this.#report(
        check,
        'FAIL',
        `${seen}: the proxy would take it for its own token being refused (a refresh, then 502 upstream_auth_failed, alarmed)`,
      );
    } else {
      this.#report(
        check,
        'FAIL',
        `${seen}: the proxy expects 400 for a missing record and would answer 502 upstream_error`,
      );
    }
  }

  /** Two accounts, those with devices first. */
  #twoAccounts(): readonly string[] {
    const ordered = [...new Set([...this.#accountsWithDevices, ...this.#accounts])];
    return ordered.slice(0, 2);
  }

  async #checkNarrowing(): Promise<void> {
    const accounts = this.#twoAccounts();
    for (const operation of NARROWED_OPERATIONS) {
      const check = `accountId ${operation}`;
      const definition = definitionOf(operation);
      const query: UpstreamQuery = definition.paged ? { limit: COMPARE_LIMIT } : {};
      const bodies: Readonly<Record<string, unknown>>[] =
        operation === 'generic/find' ? GENERIC_TYPES.map((type) => ({ _type: type })) : [{}];
      let verdict: { status: ProbeStatus; detail: string } | undefined;
      for (const base of bodies) {
        verdict = await this.#compareAccounts(operation, base, query, accounts);
        // generic/find: an empty or refused model says nothing; try the next one.
        if (verdict.status !== 'UNKNOWN' || operation !== 'generic/find') break;
      }
      if (verdict !== undefined) this.#report(check, verdict.status, verdict.detail);
    }
  }

  async #compareAccounts(
    operation: OperationKey,
    base: Readonly<Record<string, unknown>>,
    query: UpstreamQuery,
    accounts: readonly string[],
  ): Promise<{ status: ProbeStatus; detail: string }> {
    const what = base._type === undefined ? '' : `{_type: ${String(base._type)}}: `;
    const pages: Page[] = [];
    for (const account of accounts) {
      const { page, outcome } = await this.#page(operation, { ...base, accountId: account }, query);
      if (page === undefined) {
        const status: ProbeStatus =
          operation === 'generic/find' || !isAnswered(outcome) ? 'UNKNOWN' : 'FAIL';
        return { status, detail: `${what}with accountId the call got ${this.#describe(outcome)}` };
      }
      pages.push(page);
    }
    const [a, b] = pages;
    if (a === undefined || b === undefined || accounts.length < 2) {
      return {
        status: 'UNKNOWN',
        detail: `only ${accounts.length} account(s) visible (account/get, account/find): needs two to compare`,
      };
    }
    const foreign = pages.reduce(
      (count, page, index) =>
        count +
        itemsOf(page.reply).filter((item) => {
          const named = accountOf(item);
          return named !== undefined && named !== accounts[index];
        }).length,
      0,
    );
    const sizes = `${a.keys.length} and ${b.keys.length} items`;
    if (foreign > 0) {
      return {
        status: 'FAIL',
        detail: `${what}${foreign} item(s) name another account than the accountId asked for (${sizes}): accountId does not narrow; the proxy drops such items and logs a scope violation`,
      };
    }
    if (a.keys.length === 0 && b.keys.length === 0) {
      return {
        status: 'UNKNOWN',
        detail: `${what}both accounts have none, so nothing to compare`,
      };
    }
    if (sameKeys([...a.keys].sort(), [...b.keys].sort())) {
      return {
        status: 'FAIL',
        detail: `${what}two accounts get the same ${a.keys.length} items: accountId is ignored`,
      };
    }
    const named = pages.every((page, index) =>
      itemsOf(page.reply).every((item) => accountOf(item) === accounts[index]),
    );
    return {
      status: 'PASS',
      detail: named
        ? `${what}narrows: two accounts get ${sizes}, each item naming the account asked for`
        : `${what}narrows: two accounts get different items (${sizes}); the items name no account to confirm it`,
    };
  }

  async #checkEnvelopes(): Promise<void> {
    for (const operation of ENVELOPE_OPERATIONS) {
      const check = `envelope ${operation}`;
      const kept = this.#answers.get(operation) ?? [];
      if (kept.length === 0) {
        this.#report(check, 'UNKNOWN', 'no successful answer to look at (see the other lines)');
        continue;
      }
      const verdicts: { status: ProbeStatus; detail: string }[] = [];
      for (const { answer, body } of kept)
        verdicts.push(await this.#envelope(operation, answer, body));
      const worst =
        verdicts.find((v) => v.status === 'FAIL') ??
        verdicts.find((v) => v.status === 'UNKNOWN') ??
        (verdicts[0] as { status: ProbeStatus; detail: string });
      this.#report(check, worst.status, worst.detail);
    }
  }

  async #envelope(
    operation: OperationKey,
    answer: Answered,
    body: Readonly<Record<string, unknown>>,
  ): Promise<{ status: ProbeStatus; detail: string }> {
    const definition = definitionOf(operation);
    const expected = definition.paged
      ? 'a {data, next, prev} page'
      : definition.response === 'list'
        ? 'a bare array'
        : 'a bare record';
    const catalog = `catalog: ${definition.paged ? 'paged ' : ''}${definition.response}`;
    const reading = proxyReading(definition, answer);
    if (!reading.ok) {
      return {
        status: 'FAIL',
        detail: `the proxy refuses the answer (502 upstream_error): ${reading.why} (${catalog})`,
      };
    }
    const shape = shapeOf(answer.text);
    const fine = (what: string) => ({ status: 'PASS' as const, detail: `${what} (${catalog})` });
    const wrong = (what: string) => ({ status: 'FAIL' as const, detail: `${what} (${catalog})` });
    if (shape.kind === 'nothing') {
      return { status: 'UNKNOWN', detail: `an empty answer, so no envelope to see (${catalog})` };
    }
    if (definition.paged) {
      if (shape.kind === 'page') {
        return fine(`${expected}, as the proxy assumes (members: ${shape.members.join(', ')})`);
      }
      if (shape.kind === 'bare-list') {
        return wrong(
          'a bare array where a {data, next, prev} page was due: the proxy reads the items but no cursor, so partners would never get past the first page',
        );
      }
      return wrong(`not a list (${shape.kind}) where ${expected} was due`);
    }
    if (definition.response === 'list') {
      if (shape.kind === 'bare-list') return fine(`${expected}, as the proxy assumes`);
      if (shape.kind === 'page') {
        return fine('wrapped as {data: [...]} rather than bare: the proxy unwraps it');
      }
      return wrong(`not a list (${shape.kind}) where ${expected} was due`);
    }
    const ownership = operation === 'device/get' ? await this.#ownership(answer, body) : undefined;
    if (ownership?.status === 'FAIL') return wrong(ownership.detail);
    const also = ownership === undefined ? '' : `; ${ownership.detail}`;
    if (shape.kind === 'bare-record') return fine(`${expected}, as the proxy assumes${also}`);
    if (shape.kind === 'wrapped') {
      return fine(`wrapped as {data: {...}} rather than bare: the proxy unwraps it${also}`);
    }
    return wrong(`${shape.kind} where ${expected} was due`);
  }

  /** The proxy's ownership check over a device/get answer (lambda/auth/scoped-partner-policy.ts). */
  async #ownership(
    answer: Answered,
    body: Readonly<Record<string, unknown>>,
  ): Promise<{ status: ProbeStatus; detail: string }> {
    const { id, accountId } = body;
    if (typeof id !== 'string' || typeof accountId !== 'string') {
      return { status: 'UNKNOWN', detail: 'the ownership check was not run' };
    }
    const verdict = await ownershipVerdict(answer, id, accountId);
    if (verdict.kind === 'accepted') {
      return { status: 'PASS', detail: "the proxy's ownership check accepts it" };
    }
    return {
      status: 'FAIL',
      detail:
        verdict.kind === 'refused'
          ? "the proxy's ownership check refuses it (it needs the device's id and accountId in the record): every call naming a device would be 403 device_not_allowed"
          : `the proxy's ownership check fails on it (${verdict.reason})`,
    };
  }
}

const sameKeys = (a: readonly string[], b: readonly string[]): boolean =>
  a.length === b.length && a.every((key, index) => key === b[index]);

/** Runs every check against the cloud at `options.endpoint`; never writes, never throws on Ioto. */
export async function runProbe(options: ProbeOptions): Promise<ProbeReport> {
  const caller = new ReadOnlyCaller({
    endpoint: options.endpoint,
    token: options.token,
    callTimeoutMs: options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS,
    maxResponseBytes: options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
    deadline: AbortSignal.timeout(options.deadlineMs ?? DEFAULT_DEADLINE_MS),
    ...(options.transport && { transport: options.transport }),
  });
  const results = await new ProbeRun(caller, options).run();
  return {
    results,
    calls: caller.calls,
    failed: results.some((result) => result.status === 'FAIL'),
  };
}

/** One printed line: `PASS    check: detail`. */
export const formatResult = (result: ProbeResult): string =>
  `${result.status.padEnd(7)} ${result.check}: ${result.detail}`;
