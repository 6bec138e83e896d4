/**
 * The operation map of the client, derived from the generated OpenAPI types rather than listed by
 * hand: every `POST /v1/{controller}/{operation}` path becomes the key `controller/operation`,
 * its JSON request body the body type, and its 200 `application/json` schema the answer type.
 * When the catalog gains or changes an operation, `npm run client:types` is all it takes.
 */
import type { paths } from './openapi-types.js';

/** The document's paths that are partner operations. */
type OperationPath = Extract<keyof paths, `/v1/${string}/${string}`>;

type KeyOfPath<P> = P extends `/v1/${infer Controller}/${infer Operation}`
  ? `${Controller}/${Operation}`
  : never;

/** Every operation of the partner contract, as `controller/operation` (`device/find`). */
export type OperationKey = KeyOfPath<OperationPath>;

type PostOf<K extends OperationKey> = paths[Extract<OperationPath, `/v1/${K}`>] extends {
  post: infer Operation;
}
  ? Operation
  : never;

/**
 * The JSON body an operation takes. An operation whose description has no request body takes
 * an empty object.
 */
export type RequestBody<K extends OperationKey> =
  PostOf<K> extends { requestBody?: { content: { 'application/json': infer Body } } }
    ? Body
    : Record<string, never>;

/**
 * The whole success answer of an operation: `{ data }`, or for paged operations
 * `{ data, nextPageToken, prevPageToken }`.
 */
export type SuccessBody<K extends OperationKey> =
  PostOf<K> extends { responses: { 200: { content: { 'application/json': infer Body } } } }
    ? Body
    : never;

/** The `data` of an operation's success answer. */
export type ResponseData<K extends OperationKey> =
  SuccessBody<K> extends { data: infer Data } ? Data : unknown;

/** The operations whose answers carry page tokens: only these can be paginated. */
export type PagedOperationKey = {
  [K in OperationKey]: SuccessBody<K> extends { nextPageToken: unknown } ? K : never;
}[OperationKey];

/**
 * One item a paged operation yields: an element of its `data` list (a paged operation whose
 * `data` is a single record yields that record).
 */
export type PageItem<K extends PagedOperationKey> =
  ResponseData<K> extends readonly (infer Item)[] ? Item : NonNullable<ResponseData<K>>;
