import { CfnOutput, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import {
  FeaturePlan,
  OAuthScope,
  ResourceServerScope,
  UserPool,
  type UserPoolClient,
  UserPoolResourceServer,
} from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';
import { type AccessConfig, parseAccessConfig } from '../../lambda/config/access';
import type { DeploymentConfig } from '../config';

/** The identity provider section of the deployment configuration. */
type IdentitySettings = DeploymentConfig['identity'];
/** The Cognito variant of {@link IdentitySettings}. */
type CognitoSettings = Extract<IdentitySettings, { type: 'cognito' }>;
/** The external OIDC variant of {@link IdentitySettings}. */
type OidcSettings = Extract<IdentitySettings, { type: 'oidc' }>;
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
  /**
   * The partners and their grants. With Cognito each gets an app client and its `identity` is
   * left out; with OIDC each names its `identity` (client id or subject) at the issuer.
   */
  readonly partners: Partners;
}

/**
 * Who the partners are. By default a Cognito user pool that holds no users: a resource server
 * with the gateway scope, a hosted domain serving `/oauth2/token`, and one client-credentials
 * app client per partner (ids as stack outputs, secrets in Cognito). Or an external OIDC issuer
 * from the configuration. Either way it yields the access configuration of the two functions,
 * validated by the same schema as everywhere else.
 *
 * Secure defaults: no self sign-up and no password sign-in (app clients have no auth flows,
 * only the client-credentials grant with the gateway scope), generated client secrets,
 * revocable tokens, no user-existence errors, and a pool with deletion protection that
 * survives the stack.
 */
export class PartnerIdentity extends Construct {
  /** The validated access configuration: the token issuer(s), the scope and the partners. */
  readonly access: AccessConfig;

  constructor(scope: Construct, id: string, props: PartnerIdentityProps) {
    super(scope, id);
    const { identity } = props;
    this.access =
      identity.type === 'oidc'
        ? oidcAccess(identity, props.partners)
        : this.#createCognitoIdentity(identity, props.partners);
  }

  /** The user pool, its resource server, domain and app clients, and their outputs. */
  #createCognitoIdentity(identity: CognitoSettings, partners: Partners): AccessConfig {
    const pool = this.#createUserPool();
    const { server, scopeEntry } = this.#createResourceServer(pool, identity.scope);
    const domain = pool.addDomain('Domain', {
      cognitoDomain: { domainPrefix: identity.domainPrefix },
    });
    const issuer = `https://cognito-idp.${Stack.of(this).region}.amazonaws.com/${pool.userPoolId}`;
    const clients = partners.map((partner) => {
      const client = this.#addPartnerClient(pool, partner.id, {
        scope: OAuthScope.resourceServer(server, scopeEntry),
        accessTokenMinutes: identity.accessTokenMinutes,
      });
      return { ...partner, identity: { issuer, clientId: client.userPoolClientId } };
    });
    new CfnOutput(this, 'TokenEndpoint', {
      value: `${domain.baseUrl()}/oauth2/token`,
      description: 'Where partners get access tokens (client credentials grant)',
    });
    new CfnOutput(this, 'Scope', { value: identity.scope, description: 'The scope to request' });
    new CfnOutput(this, 'UserPoolId', {
      value: pool.userPoolId,
      description:
        'The partner user pool (app client secrets: aws cognito-idp describe-user-pool-client)',
    });
    return parseAccessConfig({ scope: identity.scope, issuers: [{ issuer }], partners: clients });
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

  /** The client-credentials app client of one partner, with its id as a stack output. */
  #addPartnerClient(
    pool: UserPool,
    partnerId: string,
    options: { readonly scope: OAuthScope; readonly accessTokenMinutes: number },
  ): UserPoolClient {
    const client = pool.addClient(`Client-${partnerId}`, {
      userPoolClientName: `ioto-bff-${partnerId}`,
      generateSecret: true,
      authFlows: {},
      oAuth: {
        flows: { clientCredentials: true },
        scopes: [options.scope],
      },
      accessTokenValidity: Duration.minutes(options.accessTokenMinutes),
      enableTokenRevocation: true,
      preventUserExistenceErrors: true,
    });
    new CfnOutput(this, `ClientId-${partnerId}`, {
      value: client.userPoolClientId,
      description: `Cognito app client id of partner ${partnerId} (its secret stays in Cognito)`,
    });
    return client;
  }
}

/** The access configuration of an external OIDC issuer; it creates nothing. */
function oidcAccess(identity: OidcSettings, partners: Partners): AccessConfig {
  return parseAccessConfig(
    {
      scope: identity.scope,
      issuers: [
        {
          issuer: identity.issuer,
          ...(identity.jwksUri && { jwksUri: identity.jwksUri }),
          ...(identity.audience && { audience: identity.audience }),
        },
      ],
      partners,
    },
    'access configuration',
  );
}
