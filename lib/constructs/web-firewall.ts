import { Stack } from 'aws-cdk-lib';
import type { RestApi } from 'aws-cdk-lib/aws-apigateway';
import { CfnWebACL, CfnWebACLAssociation } from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';

/** Properties of {@link WebFirewall}. */
export interface WebFirewallProps {
  /** The REST API whose deployment stage the web ACL protects. */
  readonly api: RestApi;
  /** Requests per 5 minutes from one client IP above which the rate-based rule blocks it. */
  readonly rateLimitPer5Minutes: number;
}

/** CloudWatch metrics and sampled requests of the web ACL or of one of its rules. */
const visibility = (metricName: string) => ({
  cloudWatchMetricsEnabled: true,
  metricName,
  sampledRequestsEnabled: true,
});

/**
 * AWS WAF in front of the stage: the AWS managed common rule set and known-bad-inputs rule set,
 * and a rate-based rule per client IP. The common set's 8 KB body-size rule only counts: the
 * proxy enforces the configured body limit itself, with a problem response.
 *
 * Secure defaults: requests the rule sets match are blocked (except the body-size rule above),
 * and the web ACL and every rule publish CloudWatch metrics and sampled requests.
 */
export class WebFirewall extends Construct {
  /** The web ACL, associated with the API's deployment stage. */
  readonly webAcl: CfnWebACL;

  constructor(scope: Construct, id: string, props: WebFirewallProps) {
    super(scope, id);
    this.webAcl = this.#createWebAcl(props.rateLimitPer5Minutes);
    this.#associate(this.webAcl, props.api);
  }

  /** The regional web ACL: the two managed rule sets, then the rate limit per client IP. */
  #createWebAcl(rateLimitPer5Minutes: number): CfnWebACL {
    return new CfnWebACL(this, 'WebAcl', {
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      visibilityConfig: visibility('ioto-bff-waf'),
      rules: [
        {
          name: 'AWSManagedRulesCommonRuleSet',
          priority: 0,
          overrideAction: { none: {} },
          statement: {
            managedRuleGroupStatement: {
              vendorName: 'AWS',
              name: 'AWSManagedRulesCommonRuleSet',
              ruleActionOverrides: [{ name: 'SizeRestrictions_BODY', actionToUse: { count: {} } }],
            },
          },
          visibilityConfig: visibility('ioto-bff-common'),
        },
        {
          name: 'AWSManagedRulesKnownBadInputsRuleSet',
          priority: 1,
          overrideAction: { none: {} },
          statement: {
            managedRuleGroupStatement: {
              vendorName: 'AWS',
              name: 'AWSManagedRulesKnownBadInputsRuleSet',
            },
          },
          visibilityConfig: visibility('ioto-bff-bad-inputs'),
        },
        {
          name: 'RatePerClientIp',
          priority: 2,
          action: { block: {} },
          statement: {
            rateBasedStatement: { limit: rateLimitPer5Minutes, aggregateKeyType: 'IP' },
          },
          visibilityConfig: visibility('ioto-bff-rate'),
        },
      ],
    });
  }

  /** Associates the web ACL with the API's stage, once the stage exists. */
  #associate(webAcl: CfnWebACL, api: RestApi): void {
    const stage = api.deploymentStage;
    new CfnWebACLAssociation(this, 'Association', {
      resourceArn: `arn:${Stack.of(this).partition}:apigateway:${Stack.of(this).region}::/restapis/${api.restApiId}/stages/${stage.stageName}`,
      webAclArn: webAcl.attrArn,
    }).node.addDependency(stage);
  }
}
