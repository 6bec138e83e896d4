import type { OperationDefinition } from '../catalog/types';
import {
  type core,
  int,
  maximum,
  maxLength,
  minimum,
  minLength,
  number,
  optional,
  strictObject,
  string,
} from '../config/zod';
import { type FieldProblem, ValidationError } from '../problems/problem-error';

/** Page-size bounds of the partner contract (configurable; see the README). */
export interface PagingLimits {
  readonly defaultLimit: number;
  readonly maxLimit: number;
}

/** A partner request that passed validation: Ioto fields, plus paging for paged operations. */
export interface ValidatedRequest {
  readonly fields: Record<string, unknown>;
  readonly limit?: number;
  readonly pageToken?: string;
}

/** Enough to fix a request without flooding a response. */
const MAX_REPORTED_PROBLEMS = 20;

/** RFC 6901 JSON Pointer of a zod issue path. */
const pointer = (path: readonly PropertyKey[]): string =>
  path.map((part) => `/${String(part).replaceAll('~', '~0').replaceAll('/', '~1')}`).join('');

const toFieldProblems = (error: core.$ZodError): FieldProblem[] =>
  error.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({ path: pointer([...issue.path, key]), message: 'Unknown field' }))
      : [{ path: pointer(issue.path), message: issue.message }],
  );

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/**
 * Builds the validator of the partner contract: the body is a JSON object; paged operations
 * take `limit` (1..maxLimit, default defaultLimit) and `pageToken`; every other field must
 * satisfy the operation's catalog schema. All problems are reported together.
 */
export function createRequestValidator(limits: PagingLimits) {
  const pagingSchema = strictObject({
    limit: optional(number().check(int(), minimum(1), maximum(limits.maxLimit))),
    pageToken: optional(string().check(minLength(1), maxLength(4096))),
  });

  return (definition: OperationDefinition, body: unknown): ValidatedRequest => {
    if (!isPlainObject(body)) {
      throw new ValidationError([{ path: '', message: 'The body must be a JSON object' }]);
    }
    let fields = body;
    let paging: { limit?: number | undefined; pageToken?: string | undefined } = {};
    const problems: FieldProblem[] = [];
    if (definition.paged) {
      const { limit, pageToken, ...rest } = body;
      fields = rest;
      const parsed = pagingSchema.safeParse({ limit, pageToken });
      if (parsed.success) paging = parsed.data;
      else problems.push(...toFieldProblems(parsed.error));
    }
    const parsed = definition.request.safeParse(fields);
    if (!parsed.success) problems.push(...toFieldProblems(parsed.error));
    if (problems.length > 0 || !parsed.success) {
      throw new ValidationError(problems.slice(0, MAX_REPORTED_PROBLEMS));
    }
    if (!definition.paged) return { fields: parsed.data };
    return {
      fields: parsed.data,
      limit: paging.limit ?? limits.defaultLimit,
      ...(paging.pageToken !== undefined && { pageToken: paging.pageToken }),
    };
  };
}

export type RequestValidator = ReturnType<typeof createRequestValidator>;
