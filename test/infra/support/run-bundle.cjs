// Loads one bundled Lambda file, as the Node.js 24 runtime would, and invokes its handler once.
// Secrets Manager and AppConfig are faked with aws-sdk-client-mock (the SDK is external to the bundle, as on
// Lambda, and resolves to the project's copy through NODE_PATH); https requests are carried
// over plain http so a JWKS can be served from loopback. Prints {result} or {error} as JSON.
const http = require('node:http');
const https = require('node:https');
const { mockClient } = require('aws-sdk-client-mock');
const {
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} = require('@aws-sdk/client-secrets-manager');
const { DynamoDBClient, PutItemCommand, UpdateItemCommand } = require('@aws-sdk/client-dynamodb');
const {
  AppConfigDataClient,
  GetLatestConfigurationCommand,
  StartConfigurationSessionCommand,
} = require('@aws-sdk/client-appconfigdata');

const secrets = JSON.parse(process.env.TEST_SECRETS ?? '{}');
mockClient(SecretsManagerClient)
  .on(GetSecretValueCommand)
  .callsFake(async (input) => {
    // Each secret has one version, AWSCURRENT: asking for another stage (the page-token key's
    // AWSPENDING and AWSPREVIOUS) is answered as Secrets Manager does.
    const stage = input.VersionStage ?? 'AWSCURRENT';
    if (!(input.SecretId in secrets) || stage !== 'AWSCURRENT') {
      throw new ResourceNotFoundException({
        message: `Secrets Manager can't find the specified secret value for staging label: ${stage}`,
        $metadata: { httpStatusCode: 400 },
      });
    }
    return { SecretString: secrets[input.SecretId], VersionStages: ['AWSCURRENT'] };
  });
// AppConfig serves TEST_ACCESS_CONFIG for the profile the function's environment names.
mockClient(AppConfigDataClient)
  .on(StartConfigurationSessionCommand)
  .callsFake(async (input) => {
    if (input.ConfigurationProfileIdentifier !== process.env.ACCESS_CONFIG_PROFILE)
      throw new Error(`ResourceNotFoundException: ${input.ConfigurationProfileIdentifier}`);
    return { InitialConfigurationToken: 'session-0' };
  })
  .on(GetLatestConfigurationCommand)
  .callsFake(async () => ({
    Configuration: new TextEncoder().encode(process.env.TEST_ACCESS_CONFIG ?? ''),
    ContentType: 'application/json',
    NextPollConfigurationToken: 'session-1',
  }));
// DynamoDB takes idempotency records: the proxy must reach it through the runtime's SDK (the
// CommonJS copy NODE_PATH resolves, as on Lambda), which is the copy mocked here.
const dynamodb = mockClient(DynamoDBClient);
dynamodb.on(PutItemCommand).resolves({}).on(UpdateItemCommand).resolves({});
https.request = (url, options, callback) =>
  http.request(String(url).replace(/^https:/, 'http:'), options, callback);

const context = {
  functionName: 'bundle-test',
  awsRequestId: 'bundle-test-request',
  getRemainingTimeInMillis: () => 10_000,
};
const { handler } = require(process.env.BUNDLE);
const dynamodbCalls = () =>
  dynamodb.calls().map((call) => ({
    command: call.args[0].constructor.name,
    table: call.args[0].input.TableName,
  }));
handler(JSON.parse(process.env.EVENT ?? '{}'), context).then(
  (result) => process.stdout.write(JSON.stringify({ result, dynamodb: dynamodbCalls() })),
  (error) => process.stdout.write(JSON.stringify({ error: String(error?.message ?? error) })),
);
