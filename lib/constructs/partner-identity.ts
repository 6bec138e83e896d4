import { CfnOutput, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import {
  FeaturePlan,
  OAuthScope,
  ResourceServerScope,
  UserPool,
  UserPoolResourceServer,
} from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';
import { type AccessConfig, parseAccessConfig } from '../../lambda/config/access';
import type { DeploymentConfig } from '../config';
import type { PartnerClientSettings } from './partner-shards';

/** The identity provider section of the deployment configuration. */
type IdentitySettings = DeploymentConfig['identity'];
/** The Cognito variant of {@link IdentitySettings}. */
type CognitoSettings = Extract<IdentitySettings, { type: 'cognito' }>;
/** The partners section of the deployment configuration. */
type Partners = DeploymentConfig['partners'];

/** Properties of {@link PartnerIdentity}. */
export interface PartnerIdentityProps {
  /**
   * Who issues the partners' access tokens: `{ type: 'cognito', domainPrefix, scope,
   * accessTokenMinutes }` for a user pool created here, or `{ type: 'oidc', issuer, jwksUri?,
   * audience?, scope }` for an external issuer (nothing is created then).
   */
  readonly identity: IdentitySettings;
}

/** A token issuer as the access configuration names it. */
type Issuer = AccessConfig['issuers'][number];

/**
 * Who the partners are. By default a Cognito user pool that holds no users: a resource server
 * with the gateway scope and a hosted domain serving `/oauth2/token`; the partners' app clients
 * live with their other resources in {@link PartnerShards}. Or an external OIDC issuer from the
 * configuration. Either way {@link PartnerIdentity.accessConfig} yields the access configuration
 * of the two functions, validated by the same schema as everywhere else.
 *
 * Secure defaults: no self sign-up and no password sign-in, and a pool with deletion protection
 * that survives the stack.
 */
export class PartnerIdentity extends Construct {
  /** The issuer of the partners' access tokens. */
  readonly issuer: Issuer;
  /** The OAuth scope every access token must carry. */
  readonly scope: string;
  /**
   * Where partner app clients are created, with Cognito.
   *
   * @default - undefined with an external OIDC issuer
   */
  readonly clients?: PartnerClientSettings;

  constructor(scope: Construct, id: string, props: PartnerIdentityProps) {
    super(scope, id);
    const { identity } = props;
    this.scope = identity.scope;
    if (identity.type === 'oidc') {
      // The issuer and its token rules, as the deployment configuration gives them.
      const { type: _type, scope: _scope, ...issuer } = identity;
      this.issuer = issuer;
    } else {
      const cognito = this.#createCognitoIdentity(identity);
      // The authorizer refuses a token that lives longer than the stack's app clients issue.
      this.issuer = {
        issuer: cognito.issuer,
        maxTokenLifetimeSeconds: identity.accessTokenMinutes * 60,
      };
      this.clients = cognito.clients;
    }
  }

  /**
   * The access configuration of the functions: the issuer, the scope, and each partner with
   * the identity its tokens carry (its Cognito app client id from `clientIds`, or the
   * `identity` the configuration gives for an external issuer).
   */
  accessConfig(
    partners: Partners,
    clientIds: ReadonlyMap<string, string>,
    usageKeyPrefix: string,
  ): AccessConfig {
    const issuer = this.issuer.issuer;
    return parseAccessConfig(
      {
        scope: this.scope,
        issuers: [this.issuer],
        usageKeyPrefix,
        partners: partners.map((partner) => {
          const clientId = clientIds.get(partner.id);
          return clientId === undefined ? partner : { ...partner, identity: { issuer, clientId } };
        }),
      },
      'access configuration',
    );
  }

  /** The user pool, its resource server and domain, and their outputs. */
  #createCognitoIdentity(identity: CognitoSettings): {
    issuer: string;
    clients: PartnerClientSettings;
  } {
    const pool = this.#createUserPool();
    const { server, scopeEntry } = this.#createResourceServer(pool, identity.scope);
    const domain = pool.addDomain('Domain', {
      cognitoDomain: { domainPrefix: identity.domainPrefix },
    });
    const stack = Stack.of(this);
    new CfnOutput(this, 'TokenEndpoint', {
      value: `${domain.baseUrl()}/oauth2/token`,
      description: 'Where partners get access tokens (client credentials grant)',
    });
    new CfnOutput(this, 'Scope', { value: identity.scope, description: 'The scope to request' });
    new CfnOutput(this, 'UserPoolId', {
      value: pool.userPoolId,
      description: `The partner user pool; each partner's app client is named ${stack.stackName}-<partner id>`,
    });
    return {
      issuer: `https://cognito-idp.${stack.region}.amazonaws.com/${pool.userPoolId}`,
      clients: {
        pool,
        scope: OAuthScope.resourceServer(server, scopeEntry),
        accessTokenMinutes: identity.accessTokenMinutes,
      },
    };
  }

  /** A user pool for machine identities only: no users, no sign-up, retained. */
  #createUserPool(): UserPool {
    const pool = new UserPool(this, 'UserPool', {
      // Machine identities only: nobody signs up or signs in with a password.
      selfSignUpEnabled: false,
      signInAliases: { username: true },
      passwordPolicy: {
        minLength: 16,
        requireDigits: true,
        requireLowercase: true,
        requireUppercase: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(1),
      },
      featurePlan: FeaturePlan.ESSENTIALS,
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(pool).acknowledge({
      id: 'AwsSolutions-COG2',
      reason:
        'The pool has no users, only OAuth client-credentials app clients; MFA applies to users.',
    });
    Validations.of(pool).acknowledge({
      id: 'AwsSolutions-COG8',
      reason:
        'The Plus feature plan adds threat protection for user sign-ins; this pool has no users, ' +
        'only client-credentials app clients, so Essentials suffices.',
    });
    Validations.of(pool).acknowledge({
      id: 'AwsSolutions-COG3',
      reason:
        'Threat protection (advanced security) evaluates user sign-ins; this pool has no users, ' +
        'only client-credentials app clients.',
    });
    return pool;
  }

  /** The resource server and its one scope, from `<resource server>/<scope name>`. */
  #createResourceServer(
    pool: UserPool,
    scope: string,
  ): { server: UserPoolResourceServer; scopeEntry: ResourceServerScope } {
    const [serverId = '', scopeName = ''] = scope.split('/');
    const scopeEntry = new ResourceServerScope({
      scopeName,
      scopeDescription: 'Call the ioto-bff partner API',
    });
    const server = new UserPoolResourceServer(this, 'ResourceServer', {
      userPool: pool,
      identifier: serverId,
      scopes: [scopeEntry],
    });
    return { server, scopeEntry };
  }
}
