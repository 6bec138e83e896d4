import { refine, url } from './zod';

/**
 * The `Origin` to send Ioto (the domain of the device app, docs/ioto-api.md §2.2): an https
 * origin exactly, scheme, host and optional port, no path. Shared by the functions' environment
 * (`IOTO_ORIGIN`) and the deployment configuration (`ioto.origin`).
 */
export const iotoOrigin = url({ protocol: /^https$/ }).check(
  // The url check above does not stop the refinement: a text that is no URL must not throw.
  refine((text) => URL.canParse(text) && new URL(text).origin === text, {
    message: 'must be an https origin: https://host[:port], with no path or trailing slash',
  }),
);
