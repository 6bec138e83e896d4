import { Stack } from 'aws-cdk-lib';
import {
  CfnApplication,
  CfnConfigurationProfile,
  CfnDeployment,
  CfnDeploymentStrategy,
  CfnEnvironment,
  CfnHostedConfigurationVersion,
} from 'aws-cdk-lib/aws-appconfig';
import { type IGrantable, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

/**
 * Where the functions read the access configuration: an AWS AppConfig hosted configuration
 * (application, environment, freeform JSON profile), deployed by the stack. It leaves Lambda's
 * 4 KB environment behind: a thousand partners fit in AppConfig's hosted store, and a change of
 * partners is a new configuration version, not a new function version.
 *
 * Secure defaults: the functions may read exactly this profile and nothing else of AppConfig;
 * the content holds no secrets (client ids, account ids, grants).
 */
export class AccessConfigStore extends Construct {
  readonly #application: CfnApplication;
  readonly #environment: CfnEnvironment;
  readonly #profile: CfnConfigurationProfile;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const stackName = Stack.of(this).stackName;
    this.#application = new CfnApplication(this, 'Application', {
      name: `${stackName}-access`,
      description: 'ioto-bff: who the partners are and what each may do',
    });
    this.#environment = new CfnEnvironment(this, 'Environment', {
      applicationId: this.#application.ref,
      name: 'live',
    });
    this.#profile = new CfnConfigurationProfile(this, 'Profile', {
      applicationId: this.#application.ref,
      name: 'access-configuration',
      locationUri: 'hosted',
      type: 'AWS.Freeform',
    });
  }

  /**
   * Deploys `content`, the access configuration as JSON text (deploy-time values such as
   * Cognito app client ids may appear in it as tokens): a new hosted version on every change,
   * deployed at once. Call it once, when the content is known.
   */
  deploy(content: string): void {
    const version = new CfnHostedConfigurationVersion(this, 'Version', {
      applicationId: this.#application.ref,
      configurationProfileId: this.#profile.ref,
      contentType: 'application/json',
      content,
    });
    new CfnDeployment(this, 'Deployment', {
      applicationId: this.#application.ref,
      environmentId: this.#environment.ref,
      configurationProfileId: this.#profile.ref,
      configurationVersion: version.ref,
      deploymentStrategyId: this.#immediateStrategy().ref,
      description: 'The access configuration of this deployment of the stack',
    });
  }

  /**
   * A strategy that deploys to all targets at once and is done: AppConfig's predefined
   * `AppConfig.AllAtOnce` bakes for 10 minutes, during which AppConfig refuses another
   * deployment to the environment, so a second `cdk deploy` within those minutes would fail
   * (https://docs.aws.amazon.com/appconfig/latest/userguide/appconfig-creating-deployment-strategy.html).
   * A bad access configuration is caught before deployment instead: the synth validates it
   * with the functions' own schema.
   */
  #immediateStrategy(): CfnDeploymentStrategy {
    return new CfnDeploymentStrategy(this, 'Immediately', {
      name: `${Stack.of(this).stackName}-access-immediately`,
      deploymentDurationInMinutes: 0,
      growthFactor: 100,
      finalBakeTimeInMinutes: 0,
      replicateTo: 'NONE',
    });
  }

  /** The environment variables that tell a function where the configuration is. */
  get environment(): Record<string, string> {
    return {
      ACCESS_CONFIG_APPLICATION: this.#application.ref,
      ACCESS_CONFIG_ENVIRONMENT: this.#environment.ref,
      ACCESS_CONFIG_PROFILE: this.#profile.ref,
    };
  }

  /** Lets `grantee` read the latest deployed configuration of this profile, nothing else. */
  grantRead(grantee: IGrantable): void {
    const stack = Stack.of(this);
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['appconfig:StartConfigurationSession', 'appconfig:GetLatestConfiguration'],
        resources: [
          stack.formatArn({
            service: 'appconfig',
            resource: 'application',
            resourceName: `${this.#application.ref}/environment/${this.#environment.ref}/configuration/${this.#profile.ref}`,
          }),
        ],
      }),
    );
  }
}
