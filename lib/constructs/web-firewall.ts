import { ArnFormat, Aws, Fn, Stack, Token } from 'aws-cdk-lib';
import type { RestApi } from 'aws-cdk-lib/aws-apigateway';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { CfnLoggingConfiguration, CfnWebACL, CfnWebACLAssociation } from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { toProblem } from '../../lambda/problems/to-problem';
import { throttledError } from './gateway-responses';

/** Properties of {@link WebFirewall}. */
export interface WebFirewallProps {
  /** The REST API whose deployment stage the web ACL protects. */
  readonly api: RestApi;
  /** Requests per 5 minutes from one client IP above which the rate-based rule answers 429. */
  readonly rateLimitPer5Minutes: number;
  /**
   * The start of every CloudWatch metric name of the web ACL and its rules, and part of its log
   * group's name: unique per stack, so two stacks in one account never share WAF metrics.
   * Letters, digits, `-` and `_` only (what WAF allows in a metric name), at most 117 characters
   * (WAF's 128 less the longest suffix, `-bad-inputs`); anything else fails the synth.
   */
  readonly metricPrefix: string;
  /** How long the web ACL's log group keeps its log events. */
  readonly logRetention: RetentionDays;
}

/** The web ACL's key of the rate-based rule's response body. */
const THROTTLED_BODY_KEY = 'throttled';

/**
 * Seconds a client blocked by the rate-based rule should wait. WAF counts over a trailing
 * 5-minute window and lifts the block once the count falls below the limit, so no exact time
 * exists; a minute lets a client that slows down through most of it.
 */
const RATE_RETRY_AFTER_SECONDS = 60;

/** The longest metric name WAF accepts, and the characters it allows. */
const METRIC_NAME_MAX = 128;
const METRIC_NAME = /^[A-Za-z0-9_-]+$/;

/** The metric name suffixes: the web ACL and each rule. */
const METRIC_SUFFIXES = {
  webAcl: 'waf',
  common: 'common',
  badInputs: 'bad-inputs',
  rate: 'rate',
} as const;

/**
 * The rate-based rule's 429, as the proxy's `throttled` problem: the same `type`, `title`,
 * `status`, `detail` and `code`. WAF sends a fixed body and cannot template a value into it, so
 * the body has no `requestId` (API Gateway never sees the request, so none exists either).
 */
function rateLimitedResponse() {
  const problem = toProblem(
    throttledError(
      'Too many requests from your address in the last 5 minutes; retry later.',
      RATE_RETRY_AFTER_SECONDS,
    ),
    '',
  );
  const { requestId: _none, ...body } = problem.body;
  return { status: problem.status, headers: problem.headers, body };
}

/** CloudWatch metrics, but no sampled requests, of the web ACL or of one of its rules. */
const visibility = (metricName: string) => ({
  cloudWatchMetricsEnabled: true,
  metricName,
  // Sampled requests keep every header of the request, the partner's Authorization bearer
  // token included, for 3 hours, readable by anyone with wafv2:GetSampledRequests; WAF's log
  // group (which redacts that header) serves the same purpose.
  sampledRequestsEnabled: false,
});

/**
 * AWS WAF in front of the stage: the AWS managed common rule set and known-bad-inputs rule set,
 * and a rate-based rule per client IP that answers `429 throttled` as an RFC 9457 problem with
 * `Retry-After`. The common set's 8 KB body-size rule only counts: the proxy enforces the
 * configured body limit itself, with a problem response.
 *
 * Secure defaults: requests the rule sets match are blocked (except the body-size rule above);
 * the web ACL and every rule publish CloudWatch metrics under the stack's prefix but no sampled
 * requests; every request is logged to its own log group with retention, the `authorization`
 * header redacted.
 */
export class WebFirewall extends Construct {
  /** The web ACL, associated with the API's deployment stage. */
  readonly webAcl: CfnWebACL;
  /** The log group of the web ACL's request logs (its name starts with `aws-waf-logs-`). */
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: WebFirewallProps) {
    super(scope, id);
    const metricNames = this.#metricNames(props.metricPrefix);
    this.webAcl = this.#createWebAcl(props.rateLimitPer5Minutes, metricNames);
    this.#associate(this.webAcl, props.api);
    this.logGroup = this.#createLogGroup(props.metricPrefix, props.logRetention);
    this.#enableLogging(this.webAcl, this.logGroup);
  }

  /** The metric name of the web ACL and of each rule, each starting with the prefix. */
  #metricNames(metricPrefix: string): Record<keyof typeof METRIC_SUFFIXES, string> {
    if (!Token.isUnresolved(metricPrefix)) {
      const longest = Math.max(...Object.values(METRIC_SUFFIXES).map((s) => s.length));
      if (!METRIC_NAME.test(metricPrefix) || metricPrefix.length + 1 + longest > METRIC_NAME_MAX) {
        throw new Error(
          `WebFirewall: metricPrefix "${metricPrefix}" must be letters, digits, - and _ only, ` +
            `at most ${METRIC_NAME_MAX - 1 - longest} characters`,
        );
      }
    }
    return Object.fromEntries(
      Object.entries(METRIC_SUFFIXES).map(([key, suffix]) => [key, `${metricPrefix}-${suffix}`]),
    ) as Record<keyof typeof METRIC_SUFFIXES, string>;
  }

  /** The regional web ACL: the two managed rule sets, then the rate limit per client IP. */
  #createWebAcl(
    rateLimitPer5Minutes: number,
    metricNames: Record<keyof typeof METRIC_SUFFIXES, string>,
  ): CfnWebACL {
    const limited = rateLimitedResponse();
    return new CfnWebACL(this, 'WebAcl', {
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      visibilityConfig: visibility(metricNames.webAcl),
      customResponseBodies: {
        [THROTTLED_BODY_KEY]: {
          // WAF's content types are TEXT_PLAIN, TEXT_HTML and APPLICATION_JSON: it cannot send
          // application/problem+json, nor may a custom header replace Content-Type.
          contentType: 'APPLICATION_JSON',
          content: JSON.stringify(limited.body),
        },
      },
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
          visibilityConfig: visibility(metricNames.common),
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
          visibilityConfig: visibility(metricNames.badInputs),
        },
        {
          name: 'RatePerClientIp',
          priority: 2,
          action: {
            block: {
              customResponse: {
                responseCode: limited.status,
                customResponseBodyKey: THROTTLED_BODY_KEY,
                responseHeaders: [
                  ...Object.entries(limited.headers).map(([name, value]) => ({ name, value })),
                  // What the proxy and the gateway responses send with every problem.
                  { name: 'cache-control', value: 'no-store' },
                  { name: 'x-content-type-options', value: 'nosniff' },
                ],
              },
            },
          },
          statement: {
            rateBasedStatement: { limit: rateLimitPer5Minutes, aggregateKeyType: 'IP' },
          },
          visibilityConfig: visibility(metricNames.rate),
        },
      ],
    });
  }

  /**
   * Associates the web ACL with the API's stage. The stage's name is a reference to the stage,
   * so CloudFormation creates the association after the stage without an explicit dependency.
   */
  #associate(webAcl: CfnWebACL, api: RestApi): void {
    const stage = api.deploymentStage;
    new CfnWebACLAssociation(this, 'Association', {
      resourceArn: `arn:${Stack.of(this).partition}:apigateway:${Stack.of(this).region}::/restapis/${api.restApiId}/stages/${stage.stageName}`,
      webAclArn: webAcl.attrArn,
    });
  }

  /**
   * The log group of the request logs. WAF delivers only to log groups named `aws-waf-logs-...`.
   * The name holds the metric prefix (one stack's) and the stack id's UUID (one deployment's):
   * the group is retained when the stack is deleted, like every log group of the stack, and a
   * fixed name would make a later stack of the same name fail to create its own.
   */
  #createLogGroup(metricPrefix: string, logRetention: RetentionDays): LogGroup {
    const stackUuid = Fn.select(2, Fn.split('/', Aws.STACK_ID));
    return new LogGroup(this, 'Logs', {
      // 13 + at most 117 (see #metricNames) + 1 + 36 characters: far below CloudWatch's 512.
      logGroupName: `aws-waf-logs-${metricPrefix}-${stackUuid}`,
      retention: logRetention,
    });
  }

  /**
   * Logs every request the web ACL evaluates, with the `authorization` header redacted: partner
   * bearer tokens must never be stored. WAF adds the log group's resource policy for its log
   * delivery itself when the configuration is created.
   */
  #enableLogging(webAcl: CfnWebACL, logGroup: LogGroup): void {
    // WAF wants the log group's ARN without the `:*` that LogGroup.logGroupArn ends with.
    const logGroupArn = Stack.of(this).formatArn({
      service: 'logs',
      resource: 'log-group',
      resourceName: logGroup.logGroupName,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    new CfnLoggingConfiguration(this, 'Logging', {
      resourceArn: webAcl.attrArn,
      logDestinationConfigs: [logGroupArn],
      // FieldToMatch's singleHeader is untyped (any) in aws-cdk-lib and passed through as is,
      // so its key is written as CloudFormation spells it.
      redactedFields: [{ singleHeader: { Name: 'authorization' } }],
    });
  }
}
