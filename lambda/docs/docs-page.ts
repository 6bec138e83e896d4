import { REDOC_BUNDLE } from './redoc-assets';

/**
 * The Content-Security-Policy of the docs page (https://www.w3.org/TR/CSP3/): nothing is allowed
 * unless named, and what is named is the least Redoc 2.5 runs with. Each allowance below was taken
 * away in turn under headless Chromium, and each removal broke the page with a CSP violation;
 * the Chromium test (test/integration/docs-page.test.ts) fails on any violation, which Chromium
 * reports as a console error.
 *
 * - `default-src 'none'`: no fonts, frames, media, manifests or objects of any origin;
 * - `script-src 'self'`: the Redoc bundle from this API, nothing inline, no `eval`. The page has
 *   no inline script: Redoc starts itself from the `<redoc spec-url>` element;
 * - `style-src 'unsafe-inline'`: Redoc styles itself with styled-components, which writes
 *   `<style>` elements at run time, and React sets `style` attributes (sidebar, code samples).
 *   Nonces or hashes cannot cover run-time styles; inline styles cannot run code, and no
 *   external stylesheet is allowed;
 * - `img-src data:`: Redoc's icons are `data:` URIs in its styles, and the page's favicon is an
 *   empty `data:` URI (else the browser asks for `/favicon.ico`, which API Gateway does not have);
 * - `connect-src 'self'`: Redoc fetches `openapi.json` from this API;
 * - `worker-src blob:`: Redoc's search index runs in a Web Worker that it creates from a `blob:`
 *   URL of code inside its bundle;
 * - `base-uri 'none'`, `form-action 'none'`, `frame-ancestors 'none'`: no `<base>` rewriting,
 *   no form posts, and no framing by another site (clickjacking).
 */
export const DOCS_PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'unsafe-inline'",
  'img-src data:',
  "connect-src 'self'",
  'worker-src blob:',
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** The page's title, also Redoc's while it loads. */
export const DOCS_PAGE_TITLE = 'ioto-bff partner API';

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Text safe inside a double-quoted HTML attribute. */
const escapeAttribute = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);

/**
 * The docs page: Redoc over this API's own `openapi.json`, both addressed under `basePath` (the
 * part of the URL before `/docs`: `/prod` on the execute-api endpoint, empty on a custom domain
 * or the local gateway), so the page works at `/docs` and `/docs/` alike.
 */
export function docsPage(basePath: string): string {
  const base = escapeAttribute(basePath);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<title>${DOCS_PAGE_TITLE}</title>
</head>
<body>
<noscript>This page needs JavaScript. The API's OpenAPI description is at
<a href="${base}/openapi.json">openapi.json</a>.</noscript>
<redoc spec-url="${base}/openapi.json" required-props-first="true" expand-responses="200"></redoc>
<script src="${base}/docs/${REDOC_BUNDLE}"></script>
</body>
</html>
`;
}
