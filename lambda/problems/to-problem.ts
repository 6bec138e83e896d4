import { type FieldProblem, ProblemError } from './problem-error';

/** Media type of every error response (RFC 9457 §3). */
export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** Prefix of every problem `type` URI: `urn:ioto-bff:problem:<code>`, listed in the README. */
export const PROBLEM_TYPE_PREFIX = 'urn:ioto-bff:problem:';

/** An RFC 9457 problem document with the ioto-bff extension members `code` and `requestId`. */
export interface ProblemDocument {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly code: string;
  readonly requestId: string;
  readonly errors?: readonly FieldProblem[];
}

export interface RenderedProblem {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: ProblemDocument;
}

const INTERNAL = {
  status: 500,
  code: 'internal',
  title: 'Internal error',
  detail: 'An internal error occurred. Quote the requestId when reporting it.',
} as const;

/**
 * Renders any thrown value as a problem. Only {@link ProblemError}s marked `expose` show their
 * title and detail; everything else becomes a bare `internal` 500, so no stack trace, upstream
 * body or secret can reach a partner through an error.
 */
export function toProblem(error: unknown, requestId: string): RenderedProblem {
  if (error instanceof ProblemError && error.expose) {
    return {
      status: error.status,
      headers: error.headers,
      body: {
        type: `${PROBLEM_TYPE_PREFIX}${error.code}`,
        title: error.title,
        status: error.status,
        detail: error.detail ?? error.title,
        code: error.code,
        requestId,
        ...(error.errors && { errors: error.errors }),
      },
    };
  }
  return {
    status: INTERNAL.status,
    headers: {},
    body: {
      type: `${PROBLEM_TYPE_PREFIX}${INTERNAL.code}`,
      title: INTERNAL.title,
      status: INTERNAL.status,
      detail: INTERNAL.detail,
      code: INTERNAL.code,
      requestId,
    },
  };
}
