import type { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { noteAudit } from '../audit/audit-trail';
import { findReferences } from '../auth/body-references';
import { identityFingerprint } from '../auth/identity-fingerprint';
import type { PartnerPolicy } from '../auth/scoped-partner-policy';
import { operationKey } from '../catalog/index';
import type { OperationDefinition } from '../catalog/types';
import { DEADLINE_MARGIN_MS } from '../config/settings';
import { IDEMPOTENT_REPLAYED_HEADER, idempotencyKeyOf } from '../idempotency/idempotency-key';
import type { IdempotentWrites } from '../idempotency/idempotent-writes';
import { hashRequestFields, type PageTokenSealer } from '../paging/page-token-sealer';
import type { UpstreamCursor, UpstreamQuery } from '../paging/upstream-query';
import { UpstreamTimeoutError } from '../problems/problem-error';
import type { IotoClient } from '../upstream/ioto-client';
import { failureInReply, normalizeReply } from './normalize-response';
import { parseJsonBody, resolveOperation } from './parse-request';
import { claimedPartnerOf } from './request-id';
import type { RequestValidator } from './validate-request';

/** Everything the proxy needs, built once per cold start by a composition root. */
export interface ProxyDependencies {
  readonly client: Pick<IotoClient, 'call'>;
  /** The page-token sealer, loaded on first use (its key may live in Secrets Manager). */
  readonly sealer: () => Promise<PageTokenSealer>;
  readonly validate: RequestValidator;
  readonly policy: PartnerPolicy;
  /** Brings the partners up to date with the access configuration; first thing per request. */
  readonly refreshAccess: () => Promise<void>;
  /** Largest accepted request body. */
  readonly maxBodyBytes: number;
  /** The budget of the whole upstream exchange of one request (`UPSTREAM_TIMEOUT_MS`). */
  readonly upstreamDeadlineMs: number;
  /** Runs a write with an `Idempotency-Key` at most once per partner and key. */
  readonly idempotentWrites: IdempotentWrites;
  readonly logger: Logger;
}

/**
 * The fields to send Ioto: all of them, but the account selector of an operation whose selector
 * is the gateway's own (it chose the account of the ownership check; Ioto takes no such field).
 */
const withoutGatewaySelector = (
  definition: OperationDefinition,
  fields: Readonly<Record<string, unknown>>,
): Readonly<Record<string, unknown>> => {
  const { account, accountScoping } = definition.scope;
  if (accountScoping?.basis !== 'gateway' || account?.length !== 1) return fields;
  const [selector] = account;
  const { [selector as string]: _selector, ...rest } = fields;
  return rest;
};

/** The devices a validated body names, wherever the catalog says a body names one. */
const namedDevices = (
  definition: OperationDefinition,
  fields: Readonly<Record<string, unknown>>,
): string[] => [
  ...new Set(
    findReferences(definition.scope, fields)
      .devices.map(({ value }) => value)
      .filter((value): value is string => typeof value === 'string'),
  ),
];

/**
 * The proxy, one request at a time: route, authorize the operation, parse, scope the account,
 * validate, open the page token, confirm the action, accounts and devices the body names,
 * forward to Ioto (its refusals of tenant-scoped calls answered neutrally), normalize and
 * filter the reply, seal the next page tokens. Any step may throw a `ProblemError`; the problem middleware
 * renders it.
 */
export function createProxyCore(deps: ProxyDependencies) {
  return async (
    event: APIGatewayProxyEvent,
    context?: Pick<Context, 'getRemainingTimeInMillis'>,
  ): Promise<APIGatewayProxyResult> => {
    noteAudit(event, { partnerId: claimedPartnerOf(event) });
    const definition = resolveOperation(event);
    const key = operationKey(definition);
    noteAudit(event, { operation: key });
    await deps.refreshAccess();
    const admitted = deps.policy.authorize(definition, event);
    const { call, body } = deps.policy.scope(admitted, parseJsonBody(event, deps.maxBodyBytes));
    const request = deps.validate(definition, body);
    const { fields } = request;
    noteAudit(event, {
      ...(call.account !== undefined && { account: call.account }),
      devices: namedDevices(definition, fields),
    });
    // Reads ignore the header: repeating them is harmless, and they are never stored.
    const idempotencyKey = definition.mutates
      ? idempotencyKeyOf(event, call.partner.config.requireIdempotencyKey)
      : undefined;
    if (idempotencyKey !== undefined) noteAudit(event, { idempotencyKey });

    // The hash covers the fields actually forwarded, so a token only resumes the same query,
    // and the audience binds it to the partner's identity, not only its id: a page token of a
    // partner whose client id was swapped, or of an earlier partner with the same id, is not
    // the current one's.
    // Only paged operations have page tokens to open or seal.
    const binding = definition.paged
      ? {
          operation: key,
          requestHash: hashRequestFields(fields),
          audience: identityFingerprint(call.partner),
        }
      : undefined;
    const sealer = definition.paged ? await deps.sealer() : undefined;
    const position =
      request.pageToken === undefined || binding === undefined
        ? undefined
        : sealer?.open(request.pageToken, binding);
    // One deadline for every Ioto call of this request (ownership checks, the call, its retry):
    // the configured budget, or what the function has left before Lambda stops it, less a
    // margin to answer, whichever comes first. An exhausted budget is a 504, on time.
    const budgetMs = Math.min(
      deps.upstreamDeadlineMs,
      (context?.getRemainingTimeInMillis() ?? Number.POSITIVE_INFINITY) - DEADLINE_MARGIN_MS,
    );
    if (budgetMs <= 0) {
      throw new UpstreamTimeoutError({ detail: 'No time was left to ask Ioto.' });
    }
    const signal = AbortSignal.timeout(budgetMs);

    // The gateway's own account selector (catalog accountScoping `gateway`) is not Ioto's field.
    const upstreamFields = withoutGatewaySelector(definition, fields);
    const forward = async (): Promise<APIGatewayProxyResult> => {
      await deps.policy.confirm(call, fields, signal);
      const translation = definition.upstream;
      const query: UpstreamQuery = {
        ...translation?.query,
        ...(request.limit !== undefined && { limit: request.limit }),
        ...(position && { [position.direction]: position.cursor }),
      };
      const started = Date.now();
      const reply = await deps.client
        .call({
          controller: translation?.controller ?? definition.controller,
          operation: translation?.operation ?? definition.operation,
          body: translation ? translation.body(upstreamFields) : upstreamFields,
          query,
          retrySafe: definition.retrySafe,
          signal,
          onAnswer: (status) => noteAudit(event, { upstreamStatus: status }),
          ...(definition.errorInBody && { errorInBody: true }),
        })
        .catch((error: unknown) => {
          throw deps.policy.conceal(call, error);
        });
      noteAudit(event, {
        upstreamAttempts: reply.attempts,
        tokenRefreshed: reply.tokenRefreshed,
        upstreamMs: Date.now() - started,
      });

      if (definition.errorInBody) {
        const failure = failureInReply(reply);
        if (failure !== undefined) throw failure;
      }
      const normalized = normalizeReply(definition.response, definition.paged, reply);
      const data = deps.policy.filter(call, normalized.data);
      const seal = (cursor: UpstreamCursor | undefined, direction: 'next' | 'prev') =>
        cursor === undefined || sealer === undefined || binding === undefined
          ? null
          : sealer.seal({ ...binding, cursor, direction });
      const payload = definition.paged
        ? {
            data,
            nextPageToken: seal(normalized.next, 'next'),
            prevPageToken: seal(normalized.prev, 'prev'),
          }
        : { data };
      return {
        statusCode: 200,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(payload),
      };
    };

    if (idempotencyKey === undefined) return forward();
    const { response, replayed } = await deps.idempotentWrites(
      {
        partnerId: call.partner.id,
        operation: key,
        key: idempotencyKey,
        fields,
        remainingMs: budgetMs + DEADLINE_MARGIN_MS,
      },
      forward,
    );
    if (!replayed) return response;
    noteAudit(event, { replayed: true });
    return { ...response, headers: { ...response.headers, [IDEMPOTENT_REPLAYED_HEADER]: 'true' } };
  };
}
