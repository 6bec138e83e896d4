/**
 * zod as ioto-bff uses it: `zod/mini`, set up as `zod` (classic) sets itself up. Every module
 * under lambda/ imports zod from here, never from `zod` or `zod/mini` directly.
 *
 * Mini shares classic's core but builds schemas from functions, so a bundle holds only the
 * schemas and checks it uses (https://zod.dev/packages/mini): the proxy's minified bundle
 * carries about 41 KiB of zod instead of 95 KiB. Classic installs two things on first use that
 * mini leaves to the application: the English messages ("Too small: expected string to have
 * >=1 characters", which partners and operators read in problem details and configuration
 * errors) and the memoizer that lets containers parse inputs with shared or cyclic references.
 * Both are installed here, before any schema is built (the memoizer attaches to containers as
 * they are constructed), so validation behaves exactly as with classic.
 */
import { en } from 'zod/locales';
import { config, memoizer } from 'zod/mini';

config({
  ...(config().localeError === undefined && en()),
  ...(config().memoizer === undefined && { memoizer: memoizer() }),
});

export * from 'zod/mini';
