import { Duration, NestedStack, Stack } from 'aws-cdk-lib';
import { ApiKey, CfnUsagePlanKey, type IUsagePlan } from 'aws-cdk-lib/aws-apigateway';
import { type IUserPool, type OAuthScope, UserPoolClient } from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';
import { usageIdentifierKey } from '../../lambda/config/access';
import type { DeploymentPartner } from '../config';

/**
 * Nested stacks, and how partners are spread over them. Each partner costs up to three
 * resources (an app client, an API key, its usage-plan key); CloudFormation allows 500 per
 * template, so partners live in nested stacks of at most {@link MAX_PARTNERS_PER_SHARD}.
 * A partner's stack is a hash of its id over a fixed number of shards: adding or removing a
 * partner never moves another one, so no app client is ever recreated (which would change its
 * id and secret under the partner's feet).
 */
export const SHARD_COUNT = 16;
/** 3 resources and 1 output per partner stay well inside 500 resources and 200 outputs. */
export const MAX_PARTNERS_PER_SHARD = 150;

/** FNV-1a (32 bit): a stable, well-spread hash of a partner id. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/** The shard of a partner: fixed for its id. */
export const shardOf = (partnerId: string): number => fnv1a(partnerId) % SHARD_COUNT;

/** The Cognito side, when the stack's own user pool issues the partners' tokens. */
export interface PartnerClientSettings {
  /** The user pool the app clients belong to. */
  readonly pool: IUserPool;
  /** The gateway scope each client may request. */
  readonly scope: OAuthScope;
  /** Lifetime of the clients' access tokens. */
  readonly accessTokenMinutes: number;
}

/** Properties of {@link PartnerShards}. */
export interface PartnerShardsProps {
  /** Every partner of the deployment. */
  readonly partners: readonly DeploymentPartner[];
  /** The usage plan (tier) whose throttle and quota a partner's API key gets. */
  readonly planOf: (partner: DeploymentPartner) => IUsagePlan;
  /** What the API key values of this stack start with (unique per stack). */
  readonly usageKeyPrefix: string;
  /**
   * The user pool to create each partner's client-credentials app client in.
   *
   * @default - no app clients (an external OIDC issuer identifies the partners)
   */
  readonly clients?: PartnerClientSettings;
}

/**
 * The per-partner resources, in nested stacks: an API key whose value the authorizer names for
 * the partner (key source AUTHORIZER, so partners never handle it), the key's membership in
 * the partner's usage plan, and with Cognito the partner's app client, named
 * `<stack name>-<partner id>`.
 *
 * Secure defaults: app clients allow only the client-credentials grant with the gateway scope,
 * have generated secrets, revocable tokens and no user-existence errors.
 */
export class PartnerShards extends Construct {
  /** The app client id of each partner (a deploy-time value), when Cognito issues tokens. */
  readonly clientIds: ReadonlyMap<string, string>;

  constructor(scope: Construct, id: string, props: PartnerShardsProps) {
    super(scope, id);
    const clientIds = new Map<string, string>();
    for (const [index, partners] of this.#byShard(props.partners)) {
      const shard = new NestedStack(this, `Shard${index}`, {
        description: `ioto-bff partners, shard ${index} of ${SHARD_COUNT}`,
      });
      for (const partner of partners) {
        this.#addUsageKey(shard, partner, props);
        if (props.clients) {
          clientIds.set(partner.id, this.#addClient(shard, partner.id, props.clients));
        }
      }
    }
    this.clientIds = clientIds;
  }

  /** The partners of each non-empty shard, by shard index. */
  #byShard(partners: readonly DeploymentPartner[]): Map<number, DeploymentPartner[]> {
    const shards = new Map<number, DeploymentPartner[]>();
    for (const partner of partners) {
      const index = shardOf(partner.id);
      const members = shards.get(index) ?? [];
      members.push(partner);
      shards.set(index, members);
    }
    for (const [index, members] of shards) {
      if (members.length > MAX_PARTNERS_PER_SHARD) {
        throw new Error(
          `Partner shard ${index} would hold ${members.length} partners, more than ` +
            `${MAX_PARTNERS_PER_SHARD}; raise SHARD_COUNT in lib/constructs/partner-shards.ts.`,
        );
      }
    }
    return new Map([...shards].sort(([a], [b]) => a - b));
  }

  /** The partner's API key, in its usage plan. */
  #addUsageKey(shard: Stack, partner: DeploymentPartner, props: PartnerShardsProps): void {
    const key = new ApiKey(shard, `Key-${partner.id}`, {
      apiKeyName: `${Stack.of(this).stackName}-${partner.id}`,
      description: `Usage-plan key of partner ${partner.id} (an identifier, not a credential)`,
      // The authorizer derives the same value from the partner id; partners cannot present
      // keys at all with key source AUTHORIZER, so it is an identifier, not a secret.
      value: usageIdentifierKey(partner.id, props.usageKeyPrefix),
      enabled: true,
    });
    new CfnUsagePlanKey(shard, `PlanKey-${partner.id}`, {
      keyId: key.keyId,
      keyType: 'API_KEY',
      usagePlanId: props.planOf(partner).usagePlanId,
    });
  }

  /** The partner's client-credentials app client; returns its id. */
  #addClient(shard: Stack, partnerId: string, settings: PartnerClientSettings): string {
    const client = new UserPoolClient(shard, `Client-${partnerId}`, {
      userPool: settings.pool,
      userPoolClientName: `${Stack.of(this).stackName}-${partnerId}`,
      generateSecret: true,
      authFlows: {},
      oAuth: { flows: { clientCredentials: true }, scopes: [settings.scope] },
      accessTokenValidity: Duration.minutes(settings.accessTokenMinutes),
      enableTokenRevocation: true,
      preventUserExistenceErrors: true,
    });
    return client.userPoolClientId;
  }
}
