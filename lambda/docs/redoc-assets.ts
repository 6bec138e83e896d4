/**
 * The files of Redoc (https://github.com/Redocly/redoc, MIT) that the docs page loads from its
 * own origin: the standalone bundle and its license notices. The deployment copies them next to
 * the docs function's code (lib/constructs/partner-docs.ts, which names the same files); the
 * local gateway reads them from node_modules. Nothing is fetched from a CDN, at build or run time.
 */

/** A file served under `/docs/{asset}`. */
export interface DocsAsset {
  readonly contentType: string;
  readonly body: string;
}

/** The Redoc bundle, under `/docs/`: the page's one script. */
export const REDOC_BUNDLE = 'redoc.standalone.js';

/**
 * The files served under `/docs/`, by the name they have in the function's bundle. The notices
 * file is the one the bundle's first line points to (next to it); `redoc.LICENSE.txt` is
 * Redoc's own MIT license (`node_modules/redoc/LICENSE`), which must travel with the copy.
 */
export const REDOC_FILES = {
  [REDOC_BUNDLE]: 'text/javascript; charset=utf-8',
  'redoc.standalone.js.LICENSE.txt': 'text/plain; charset=utf-8',
  'redoc.LICENSE.txt': 'text/plain; charset=utf-8',
} as const;

export type RedocFile = keyof typeof REDOC_FILES;

/**
 * The one address outside the page's origin that Redoc 2.5 loads by itself: the Redocly logo
 * of its sidebar footer ("API docs by Redocly"), an `<img>` whose `onError` hides it. The docs
 * page loads nothing from elsewhere (its Content-Security-Policy would refuse it, with a console
 * error, and partners' networks may not reach it), so the address is emptied: an `<img>` with
 * an empty `src` fails at once without a request (HTML, "update the image data"), and Redoc's own
 * `onError` then leaves the logo out. The link text stays.
 */
const REDOCLY_LOGO = '"https://cdn.redoc.ly/redoc/logo-mini.svg"';

/**
 * The Redoc bundle as the page serves it: {@link REDOCLY_LOGO} emptied. Fails when the bundle
 * does not hold that address exactly once, so an upgrade of Redoc that moves it is noticed at
 * the first start, not by a partner's browser.
 */
export function withoutRemoteLoads(bundle: string): string {
  const parts = bundle.split(REDOCLY_LOGO);
  if (parts.length !== 2) {
    throw new Error(
      `The Redoc bundle names ${REDOCLY_LOGO} ${parts.length - 1} times, not once: ` +
        'check what it loads',
    );
  }
  return parts.join('""');
}

/**
 * Reads every file of {@link REDOC_FILES} once, through `read` (a file name to its text), into
 * the assets the docs handler serves.
 */
export function loadRedocAssets(read: (file: RedocFile) => string): ReadonlyMap<string, DocsAsset> {
  return new Map(
    (Object.keys(REDOC_FILES) as RedocFile[]).map((file) => {
      const text = read(file);
      return [
        file,
        {
          contentType: REDOC_FILES[file],
          body: file === REDOC_BUNDLE ? withoutRemoteLoads(text) : text,
        },
      ];
    }),
  );
}
