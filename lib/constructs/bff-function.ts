import * as path from 'node:path';
import { type Duration, Validations } from 'aws-cdk-lib';
import type { IAlarm } from 'aws-cdk-lib/aws-cloudwatch';
import {
  type ILambdaDeploymentConfig,
  LambdaApplication,
  LambdaDeploymentConfig,
  LambdaDeploymentGroup,
} from 'aws-cdk-lib/aws-codedeploy';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Alias, Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, SourceMapMode } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { RolloutStrategy } from '../config';
import { SERVICE_NAME } from '../service';

/** The CodeDeploy configuration of each rollout strategy of the deployment configuration. */
const DEPLOYMENT_CONFIGS: Record<RolloutStrategy, ILambdaDeploymentConfig> = {
  'canary-10-percent-5-minutes': LambdaDeploymentConfig.CANARY_10PERCENT_5MINUTES,
  'canary-10-percent-15-minutes': LambdaDeploymentConfig.CANARY_10PERCENT_15MINUTES,
  'linear-10-percent-every-1-minute': LambdaDeploymentConfig.LINEAR_10PERCENT_EVERY_1MINUTE,
  'linear-10-percent-every-3-minutes': LambdaDeploymentConfig.LINEAR_10PERCENT_EVERY_3MINUTES,
  'all-at-once': LambdaDeploymentConfig.ALL_AT_ONCE,
};

/** The repository root, where package-lock.json and the lambda/ sources are. */
export const PROJECT_ROOT = path.join(__dirname, '..', '..');

/** Properties of a {@link BffFunction}. */
export interface BffFunctionProps {
  /**
   * The handler file under `lambda/handlers/`, without extension (`proxy`, `authorizer`); it
   * must export `handler`. Also names the function in its role's description.
   */
  readonly handler: string;
  /** The Lambda function's description, shown in the console. */
  readonly description: string;
  /** Memory of the function, in MB (CPU scales with it). */
  readonly memorySize: number;
  /** How long one invocation may run before Lambda stops it. */
  readonly timeout: Duration;
  /** How long the function's own log group keeps its log events. */
  readonly logRetention: RetentionDays;
  /**
   * Environment variables of the function, added to the defaults (`NODE_OPTIONS` with source
   * maps and the Powertools settings: service `ioto-bff`, the metrics namespace, log level
   * `INFO`, no response capture in traces); a variable given here replaces the default of that
   * name.
   */
  readonly environment: Readonly<Record<string, string>>;
  /** The CloudWatch namespace of the function's metrics (unique per stack). */
  readonly metricsNamespace: string;
  /**
   * Concurrent executions reserved for the function, which are also its ceiling.
   *
   * @default - no reservation: the function draws on the account's unreserved concurrency
   */
  readonly reservedConcurrentExecutions?: number;
  /**
   * Shell commands run after esbuild (locally, no Docker), e.g. to copy static files next to the
   * bundle; they count in the asset's hash.
   *
   * @default - none
   */
  readonly afterBundling?: (inputDir: string, outputDir: string) => string[];
}

/**
 * One ioto-bff Lambda function: bundled by the local esbuild (never Docker), Node.js 24 on
 * ARM64, minified with source maps, X-Ray active tracing, its own log group with retention and
 * its own role that can write only to that log group.
 *
 * Secure defaults: a dedicated execution role with no managed policies (grant it more
 * explicitly, e.g. secret reads), logs only in the function's own log group, and X-Ray traces
 * that never capture response bodies.
 */
export class BffFunction extends Construct {
  /** The Lambda function (its `$LATEST`: invoke {@link BffFunction.alias} instead). */
  readonly function: NodejsFunction;
  /**
   * The alias `live`, on the function's current version: what API Gateway invokes, and what
   * CodeDeploy shifts from one version to the next ({@link BffFunction.rollOut}).
   */
  readonly alias: Alias;
  /** The function's execution role: it may write its logs and traces, nothing else. */
  readonly role: Role;
  /** The function's log group, with the configured retention. */
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: BffFunctionProps) {
    super(scope, id);
    this.logGroup = new LogGroup(this, 'Logs', { retention: props.logRetention });
    this.role = this.#createRole(props.handler, this.logGroup);
    this.function = this.#createFunction(props, this.role, this.logGroup);
    this.alias = new Alias(this, 'Live', {
      aliasName: 'live',
      version: this.function.currentVersion,
      description: 'What API Gateway invokes; CodeDeploy moves it from version to version',
    });
    this.#acknowledgeFindings(this.function, this.role);
  }

  /**
   * Every new version reaches the alias through CodeDeploy: traffic shifts by `strategy`, and
   * the deployment rolls back by itself when one of `alarms` fires meanwhile.
   */
  rollOut(strategy: RolloutStrategy, alarms: readonly IAlarm[]): LambdaDeploymentGroup {
    const group = new LambdaDeploymentGroup(this, 'Rollout', {
      application: new LambdaApplication(this, 'Application'),
      alias: this.alias,
      deploymentConfig: DEPLOYMENT_CONFIGS[strategy],
      alarms: [...alarms],
      autoRollback: { failedDeployment: true, stoppedDeployment: true, deploymentInAlarm: true },
    });
    Validations.of(group).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSCodeDeployRoleForLambdaLimited]',
      reason:
        "CodeDeploy's service role for Lambda deployments: AWS publishes this managed policy " +
        'for exactly that role (it may only update aliases and invoke hooks).',
    });
    return group;
  }

  /** The execution role, allowed to write to the function's log group only. */
  #createRole(handler: string, logGroup: LogGroup): Role {
    const role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of the ioto-bff ${handler} function`,
    });
    logGroup.grantWrite(role);
    return role;
  }

  /** The function itself, bundled from `lambda/handlers/<handler>.ts`. */
  #createFunction(props: BffFunctionProps, role: Role, logGroup: LogGroup): NodejsFunction {
    return new NodejsFunction(this, 'Function', {
      entry: path.join(PROJECT_ROOT, 'lambda', 'handlers', `${props.handler}.ts`),
      handler: 'handler',
      description: props.description,
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize,
      timeout: props.timeout,
      role,
      logGroup,
      tracing: Tracing.ACTIVE,
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: path.join(PROJECT_ROOT, 'package-lock.json'),
      ...(props.reservedConcurrentExecutions !== undefined && {
        reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      }),
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
        POWERTOOLS_METRICS_NAMESPACE: props.metricsNamespace,
        POWERTOOLS_LOG_LEVEL: 'INFO',
        ...props.environment,
      },
      bundling: {
        minify: true,
        // Stack traces of unexpected errors name the TypeScript source, line and column
        // (NODE_OPTIONS above); the map holds no copy of the sources, which Node would read and
        // parse at every cold start for nothing (`npm run bench`: about half the maps' cost).
        sourceMap: true,
        sourceMapMode: SourceMapMode.DEFAULT,
        sourcesContent: false,
        target: 'node24',
        format: OutputFormat.CJS,
        // The Node.js 24 runtime ships AWS SDK v3.
        externalModules: ['@aws-sdk/*'],
        // `import()` of a module loaded on first use (the DynamoDB client) becomes `require`:
        // the runtime's SDK is found through NODE_PATH, which ES module resolution ignores.
        esbuildArgs: { '--supported:dynamic-import': 'false' },
        forceDockerBundling: false,
        ...(props.afterBundling !== undefined && {
          commandHooks: {
            beforeBundling: () => [],
            beforeInstall: () => [],
            afterBundling: props.afterBundling,
          },
        }),
      },
    });
  }

  /** The cdk-nag findings that do not apply to this function, each with its reason. */
  #acknowledgeFindings(fn: NodejsFunction, role: Role): void {
    Validations.of(fn).acknowledge({
      id: 'Serverless-LambdaDLQ',
      reason:
        'API Gateway invokes the function synchronously and gets every failure as a response; ' +
        'dead-letter queues apply only to asynchronous invocations.',
    });
    // X-Ray's PutTraceSegments and PutTelemetryRecords have no resource-level permissions.
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'X-Ray PutTraceSegments/PutTelemetryRecords support only Resource "*" (AWS docs: X-Ray IAM).',
    });
  }
}
