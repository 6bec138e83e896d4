import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { OperationDefinition } from '../catalog/types';

/** A validated call, as the policy sees it. */
export interface PolicyInput {
  readonly operation: OperationDefinition;
  readonly fields: Readonly<Record<string, unknown>>;
  readonly event: APIGatewayProxyEvent;
}

/** What the policy lets through. */
export interface AuthorizedCall {
  /** The fields to forward: the policy may set server-side values such as `accountId`. */
  readonly fields: Record<string, unknown>;
  /** Who the call is for; page tokens are bound to it. */
  readonly audience: string;
}

/**
 * Decides whether a validated call may go to Ioto, between validation and the token. Refuses by
 * throwing a `ProblemError`.
 */
export interface PartnerPolicy {
  authorize(input: PolicyInput): Promise<AuthorizedCall>;
}

/**
 * Lets every validated call through, for one trusted caller. It exists for the local gateway
 * and tests until partner identity lands (the authorization issue); the deployed handler must
 * be given a real policy.
 */
export const unrestrictedPolicy: PartnerPolicy = {
  authorize: async ({ fields }) => ({ fields: { ...fields }, audience: '' }),
};
