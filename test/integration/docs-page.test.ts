import { existsSync } from 'node:fs';
import puppeteer, { type Browser, type HTTPResponse, type Page } from 'puppeteer-core';
import { SEED } from '../../dev/ioto-simulator';
import { catalog, operationKey } from '../../lambda/catalog/index';
import { DOCS_PAGE_CSP } from '../../lambda/docs/docs-page';
import { fullAccessConfig } from '../support/access-fixtures';
import { type Rig, startRig } from './gateway-harness';

/**
 * The docs page as a partner's browser sees it: headless Chromium opens `/docs` on the local
 * gateway (the same docs handler as the deployed function), Redoc renders the description, and
 * everything the page needed came from the gateway itself, under the page's
 * Content-Security-Policy, without a single error.
 */

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const [OWNER] = SEED.accounts;

/** What happened while the page loaded, rendered and searched. */
const seen = {
  requests: [] as string[],
  consoleErrors: [] as string[],
  pageErrors: [] as string[],
  failedRequests: [] as string[],
  errorResponses: [] as string[],
};

let rig: Rig;
let browser: Browser | undefined;
let page: Page;
let served: HTTPResponse | null;

/** The operationId the served description gives each catalog operation. */
let operationIds: Map<string, string>;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `No Chromium at ${CHROMIUM}: install it (apt-get install -y chromium) or set CHROMIUM_PATH`,
    );
  }
  rig = await startRig(fullAccessConfig(OWNER.id), 'tester');
  const description = (await (await fetch(`${rig.gateway.url}/openapi.json`)).json()) as {
    paths: Record<string, { post: { operationId: string } }>;
  };
  operationIds = new Map(
    catalog.map((op) => [
      operationKey(op),
      description.paths[`/v1/${operationKey(op)}`]?.post.operationId ?? '(none)',
    ]),
  );

  browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  page = await browser.newPage();
  // Wide enough for Redoc's sidebar (it folds it away below 800 px).
  await page.setViewport({ width: 1280, height: 900 });
  // Chromium reports CSP violations as console errors already; this names the directive too.
  // (Page scripts are given as text: the project compiles without the DOM's types.)
  await page.evaluateOnNewDocument(
    "document.addEventListener('securitypolicyviolation', (e) => " +
      "console.error('CSP violation: ' + e.effectiveDirective + ' ' + e.blockedURI));",
  );
  page.on('request', (request) => seen.requests.push(request.url()));
  page.on('console', (message) => {
    if (message.type() === 'error') seen.consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => seen.pageErrors.push(String(error)));
  page.on('requestfailed', (request) =>
    seen.failedRequests.push(`${request.url()}: ${request.failure()?.errorText}`),
  );
  page.on('response', (response) => {
    if (response.status() >= 400)
      seen.errorResponses.push(`${response.status()} ${response.url()}`);
  });

  served = await page.goto(`${rig.gateway.url}/docs`, { waitUntil: 'load' });
  // Redoc has rendered when every operation has its section.
  await page.waitForFunction(
    `document.querySelectorAll('[data-section-id*="/operation/"]').length >= ${catalog.length}`,
    { timeout: 15_000 },
  );
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await rig?.close();
});

describe('the docs page in headless Chromium', () => {
  it('is served as HTML under the strict Content-Security-Policy', () => {
    expect(served?.status()).toBe(200);
    expect(served?.headers()['content-type']).toBe('text/html; charset=utf-8');
    expect(served?.headers()['content-security-policy']).toBe(DOCS_PAGE_CSP);
  });

  it('renders a section and a menu entry for every catalog operation, by operationId and summary', async () => {
    const sections = await page.$$eval('[data-section-id]', (elements) =>
      elements.map((e) => e.getAttribute('data-section-id') ?? ''),
    );
    const menu = await page.$$eval('li[data-item-id*="/operation/"]', (elements) =>
      elements.map((e) => e.getAttribute('aria-label') ?? ''),
    );
    const missing = catalog.flatMap((op) => {
      const id = operationIds.get(operationKey(op)) ?? '';
      return [
        ...(sections.some((s) => s.endsWith(`/operation/${id}`)) ? [] : [`section ${id}`]),
        ...(menu.includes(op.summary) ? [] : [`menu entry "${op.summary}"`]),
      ];
    });
    expect(missing).toEqual([]);
    expect(new Set(operationIds.values()).size).toBe(catalog.length);
  });

  it("runs Redoc's search (a blob: Web Worker) under the page's policy", async () => {
    const signedUrl = catalog.find((op) => operationKey(op) === 'device/getSignedUrl');
    await page.click('input.search-input');
    await page.keyboard.type('signed');
    const found = '[data-role="search:results"] li[data-item-id]';
    await page.waitForSelector(found, { timeout: 5_000 });
    const results = await page.$$eval(found, (items) =>
      items.map((item) => item.getAttribute('aria-label') ?? ''),
    );
    expect(results).toContain(signedUrl?.summary);
  });

  it('loads everything from the gateway itself: no request leaves loopback', () => {
    const origin = new URL(rig.gateway.url).origin;
    const elsewhere = seen.requests.filter(
      (url) => !url.startsWith(`${origin}/`) && !/^(data|blob):/.test(url),
    );
    expect(elsewhere).toEqual([]);
    expect(seen.requests).toEqual(
      expect.arrayContaining([
        `${origin}/docs`,
        `${origin}/docs/redoc.standalone.js`,
        `${origin}/openapi.json`,
      ]),
    );
  });

  it('logs no console error and no page error, and no request failed or was refused', () => {
    expect(seen).toMatchObject({
      consoleErrors: [],
      pageErrors: [],
      failedRequests: [],
      errorResponses: [],
    });
  });
});
