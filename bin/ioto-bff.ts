/**
 * The CDK app: loads the deployment configuration named in context (`-c configFile=...`, the
 * sample by default, see cdk.json), validates it, builds the stack and runs cdk-nag.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { DeploymentConfigError, loadDeploymentConfig } from '../lib/config';
import { IotoBffStack } from '../lib/ioto-bff-stack';

const app = new App();
try {
  const config = loadDeploymentConfig(app.node.tryGetContext.bind(app.node));
  const stackName: unknown = app.node.tryGetContext('stackName');
  new IotoBffStack(app, typeof stackName === 'string' ? stackName : 'IotoBff', {
    config,
    description: 'ioto-bff: a partner gateway to an EmbedThis Ioto device cloud',
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
} catch (error) {
  if (!(error instanceof DeploymentConfigError)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exit(1);
}
