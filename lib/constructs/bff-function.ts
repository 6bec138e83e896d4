import * as path from 'node:path';
import { type Duration, Validations } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, SourceMapMode } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../service';

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
   * maps and the Powertools settings: service `ioto-bff`, namespace `IotoBff`, log level `INFO`,
   * no response capture in traces); a variable given here replaces the default of that name.
   */
  readonly environment: Readonly<Record<string, string>>;
  /**
   * Concurrent executions reserved for the function, which are also its ceiling.
   *
   * @default - no reservation: the function draws on the account's unreserved concurrency
   */
  readonly reservedConcurrentExecutions?: number;
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
  /** The Lambda function. */
  readonly function: NodejsFunction;
  /** The function's execution role: it may write its logs and traces, nothing else. */
  readonly role: Role;
  /** The function's log group, with the configured retention. */
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: BffFunctionProps) {
    super(scope, id);
    this.logGroup = new LogGroup(this, 'Logs', { retention: props.logRetention });
    this.role = this.#createRole(props.handler, this.logGroup);
    this.function = this.#createFunction(props, this.role, this.logGroup);
    this.#acknowledgeFindings(this.function, this.role);
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
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        POWERTOOLS_LOG_LEVEL: 'INFO',
        // X-Ray must never hold response bodies: they carry partner data.
        POWERTOOLS_TRACER_CAPTURE_RESPONSE: 'false',
        ...props.environment,
      },
      bundling: {
        minify: true,
        sourceMap: true,
        sourceMapMode: SourceMapMode.DEFAULT,
        target: 'node24',
        format: OutputFormat.CJS,
        // The Node.js 24 runtime ships AWS SDK v3.
        externalModules: ['@aws-sdk/*'],
        forceDockerBundling: false,
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
