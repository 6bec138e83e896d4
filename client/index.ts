/**
 * `@ioto-bff/client`: a typed client of the ioto-bff partner API. See client/README.md.
 */

export {
  type ClientCredentialsOptions,
  clientCredentialsToken,
} from './src/client-credentials-token.js';
export {
  type CallArgs,
  type CallOptions,
  createIotoBffClient,
  type IotoBffClient,
  type IotoBffClientOptions,
  type TokenFunction,
} from './src/ioto-bff-client.js';
export {
  type ClientErrorCode,
  IotoBffError,
  type IotoBffErrorInit,
  type ProblemFieldError,
} from './src/ioto-bff-error.js';
export type { components, operations, paths } from './src/openapi-types.js';
export type {
  OperationKey,
  PagedOperationKey,
  PageItem,
  RequestBody,
  ResponseData,
  SuccessBody,
} from './src/operations.js';
export { parseRetryAfter, type RetryOptions, type Sleep } from './src/retry-policy.js';
