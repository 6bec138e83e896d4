import type { UpstreamQuery } from '../../lambda/paging/upstream-query';
import type { SimulatorState } from './state';

/** A JSON request body after parsing: Ioto bodies are always objects (docs/ioto-api.md §2.1). */
export type JsonObject = Record<string, unknown>;

/** What one simulated operation receives. */
export interface OperationRequest {
  readonly body: JsonObject;
  readonly query: UpstreamQuery;
}

/**
 * What one simulated operation answers with a 200: a JSON value, or an empty body for the
 * operations whose reply Ioto does not document (ref §10.12).
 */
export type OperationReply =
  | { readonly kind: 'json'; readonly value: unknown }
  | { readonly kind: 'empty' };

/** One Ioto operation: reads and changes the simulator state, or throws `SimulatorError`. */
export type OperationHandler = (state: SimulatorState, request: OperationRequest) => OperationReply;

/** The operations of one controller, keyed by the operation name as Ioto spells it. */
export type OperationTable = Readonly<Record<string, OperationHandler>>;

/** Answers a JSON value with 200. */
export const json = (value: unknown): OperationReply => ({ kind: 'json', value });

/** Answers 200 with an empty body. */
export const empty = (): OperationReply => ({ kind: 'empty' });
