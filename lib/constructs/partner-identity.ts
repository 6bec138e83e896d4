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

export interface PartnerIdentityProps {
  readonly identity: DeploymentConfig['identity'];
  readonly partners: DeploymentConfig['partners'];
}

/**
 * Who the partners are. By default a Cognito user pool that holds no users: a resource server
 * with the gateway scope, a hosted domain serving `/oauth2/token`, and one client-credentials
 * app client per partner (ids as stack outputs, secrets in Cognito). Or an external OIDC issuer
 * from the configuration. Either way it yields the access configuration of the two functions,
 * validated by the same schema as everywhere else.
 */
export class PartnerIdentity extends Construct {
  readonly access: AccessConfig;

  constructor(scope: Construct, id: string, props: PartnerIdentityProps) {
    super(scope, id);
    const { identity } = props;
    if (identity.type === 'oidc') {
      this.access = parseAccessConfig(
        {
          scope: identity.scope,
          issuers: [
            {
              issuer: identity.issuer,
              ...(identity.jwksUri && { jwksUri: identity.jwksUri }),
              ...(identity.audience && { audience: identity.audience }),
            },
          ],
          partners: props.partners,
        },
        'access configuration',
      );
      return;
    }

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
    const [serverId = '', scopeName = ''] = identity.scope.split('/');
    const scopeEntry = new ResourceServerScope({
      scopeName,
      scopeDescription: 'Call the ioto-bff partner API',
    });
    const server = new UserPoolResourceServer(this, 'ResourceServer', {
      userPool: pool,
      identifier: serverId,
      scopes: [scopeEntry],
    });
    const domain = pool.addDomain('Domain', {
      cognitoDomain: { domainPrefix: identity.domainPrefix },
    });
    const issuer = `https://cognito-idp.${Stack.of(this).region}.amazonaws.com/${pool.userPoolId}`;
    const partners = props.partners.map((partner) => {
      const client = pool.addClient(`Client-${partner.id}`, {
        userPoolClientName: `ioto-bff-${partner.id}`,
        generateSecret: true,
        authFlows: {},
        oAuth: {
          flows: { clientCredentials: true },
          scopes: [OAuthScope.resourceServer(server, scopeEntry)],
        },
        accessTokenValidity: Duration.minutes(identity.accessTokenMinutes),
        enableTokenRevocation: true,
        preventUserExistenceErrors: true,
      });
      new CfnOutput(this, `ClientId-${partner.id}`, {
        value: client.userPoolClientId,
        description: `Cognito app client id of partner ${partner.id} (its secret stays in Cognito)`,
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
    this.access = parseAccessConfig({ scope: identity.scope, issuers: [{ issuer }], partners });
  }
}
