import * as path from 'node:path';
import { CfnOutput, Duration, Validations } from 'aws-cdk-lib';
import {
  AuthorizationType,
  LambdaIntegration,
  type Resource,
  type RestApi,
} from 'aws-cdk-lib/aws-apigateway';
import { type IUserPool, UserPoolDomain } from 'aws-cdk-lib/aws-cognito';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import packageJson from '../../package.json';
import { BffFunction, PROJECT_ROOT } from './bff-function';

/** Properties of {@link PartnerDocs}. */
export interface PartnerDocsProps {
  /** The partner API: the docs routes are added to it, and served on its stage. */
  readonly api: RestApi;
  /** The paging bounds the description states (the proxy's own limits). */
  readonly pageLimits: { readonly pageLimitDefault: number; readonly pageLimitMax: number };
  /** The OAuth scope every access token must carry. */
  readonly scope: string;
  /**
   * The OAuth 2.0 token endpoint partners use (client credentials), named in the description.
   *
   * @default - none (an external OIDC issuer, whose token endpoint the configuration does not
   * name)
   */
  readonly tokenUrl?: string;
  /** How long the function's log group keeps its log events. */
  readonly logRetention: RetentionDays;
  /** The CloudWatch namespace of the stack's metrics (the Powertools setting of every function). */
  readonly metricsNamespace: string;
}

/**
 * The files of the redoc package (https://github.com/Redocly/redoc, MIT) copied next to the
 * function's code, by the name the function serves them under (`REDOC_FILES` in
 * lambda/docs/redoc-assets.ts; the bundle test loads the synthesized function and asks for
 * each): the standalone bundle, the third-party notices its first line points to, and Redoc's
 * own license.
 */
export const REDOC_SOURCES: Readonly<Record<string, string>> = {
  'redoc.standalone.js': 'bundles/redoc.standalone.js',
  'redoc.standalone.js.LICENSE.txt': 'bundles/redoc.standalone.js.LICENSE.txt',
  'redoc.LICENSE.txt': 'LICENSE',
};

/** The installed redoc package, relative to the project root (where bundling starts). */
const REDOC_PACKAGE = path.relative(
  PROJECT_ROOT,
  path.dirname(require.resolve('redoc/package.json', { paths: [PROJECT_ROOT] })),
);

/**
 * The token endpoint of a Cognito user pool's hosted domain (`/oauth2/token`, client
 * credentials), when the pool has one.
 */
export function cognitoTokenUrl(pool: IUserPool | undefined): string | undefined {
  const domain = pool?.node.children.find((child) => child instanceof UserPoolDomain);
  return domain instanceof UserPoolDomain ? `${domain.baseUrl()}/oauth2/token` : undefined;
}

/**
 * Documentation for partners, open to anyone who can reach the API: `GET /docs` (a Redoc page),
 * `GET /docs/{asset}` (Redoc's own files, shipped with the function: no CDN) and
 * `GET /openapi.json` (the OpenAPI description, naming the API it was fetched from, its token
 * endpoint and scope). A small function of its own serves them, never the proxy: it holds no
 * secret, reads no partner data, and keeps the proxy's bundle lean.
 *
 * Each route has a GET and an ANY method, both on the function with authorization NONE: the
 * function answers 405 `method_not_allowed` to other methods and 404 `not_found` to other
 * names under `/docs/`. The routes are on the API's stage, so its web firewall, stage throttle
 * and access log cover them; no usage plan does (no API key is required).
 *
 * Secure defaults: a role that may write only its own logs and traces, a strict
 * Content-Security-Policy on the page (lambda/docs/docs-page.ts), and documents that say
 * nothing the partner contract does not.
 */
export class PartnerDocs extends Construct {
  /**
   * The docs function, built as every ioto-bff function is (constructs/bff-function.ts), with
   * Redoc's files copied next to its code; API Gateway invokes its alias `live`, which a
   * deployment moves at once: the docs have no rollout of their own.
   */
  readonly function: BffFunction;

  constructor(scope: Construct, id: string, props: PartnerDocsProps) {
    super(scope, id);
    this.function = new BffFunction(this, 'Function', {
      handler: 'docs',
      description: 'ioto-bff: serves the partner documentation and the OpenAPI description',
      // The description is built and Redoc's 1.1 MB bundle read once per cold start.
      memorySize: 256,
      timeout: Duration.seconds(10),
      logRetention: props.logRetention,
      metricsNamespace: props.metricsNamespace,
      environment: {
        PAGE_LIMIT_DEFAULT: String(props.pageLimits.pageLimitDefault),
        PAGE_LIMIT_MAX: String(props.pageLimits.pageLimitMax),
        API_VERSION: packageJson.version,
        OAUTH_SCOPE: props.scope,
        ...(props.tokenUrl !== undefined && { OAUTH_TOKEN_URL: props.tokenUrl }),
      },
      // The handler reads these next to its own file (lambda/handlers/docs.ts); they count in
      // the asset's hash, so a new Redoc is a new deployment.
      afterBundling: (inputDir, outputDir) =>
        Object.entries(REDOC_SOURCES).map(
          ([name, source]) =>
            `cp "${path.join(inputDir, REDOC_PACKAGE, source)}" "${path.join(outputDir, name)}"`,
        ),
    });
    this.#addRoutes(props.api);
    const domain = props.api.domainName;
    new CfnOutput(this, 'Url', {
      value: domain ? `https://${domain.domainName}/docs` : props.api.urlForPath('/docs'),
      description: 'The partner documentation (its OpenAPI description: openapi.json next to it)',
    });
  }

  /** `/docs`, `/docs/{asset}` and `/openapi.json`: GET and ANY, open, on the function. */
  #addRoutes(api: RestApi): void {
    // One permission for the whole API, as for the proxy (constructs/partner-api.ts).
    const integration = new LambdaIntegration(this.function.alias, {
      proxy: true,
      scopePermissionToMethod: false,
    });
    const docs = api.root.addResource('docs');
    const routes: [Resource, string][] = [
      [docs, 'docs.page'],
      [docs.addResource('{asset}'), 'docs.asset'],
      [api.root.addResource('openapi.json'), 'docs.openapi'],
    ];
    for (const [resource, name] of routes) {
      for (const method of ['GET', 'ANY']) {
        const added = resource.addMethod(method, integration, {
          authorizationType: AuthorizationType.NONE,
          operationName: method === 'GET' ? name : `${name}.notAllowed`,
        });
        Validations.of(added).acknowledge({
          id: 'AwsSolutions-APIG4',
          reason:
            'Public documentation for partners (the Redoc page, its files and the OpenAPI ' +
            'description): fixed documents of the published contract, no partner data; the ' +
            "stage's web firewall and throttle still apply.",
        });
        Validations.of(added).acknowledge({
          id: 'AwsSolutions-COG4',
          reason:
            'Public documentation for partners needs no identity: prospective partners read it ' +
            'before they have credentials, and it serves no partner data.',
        });
      }
    }
  }
}
