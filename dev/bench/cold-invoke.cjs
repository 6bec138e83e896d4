// `node dev/bench/cold-invoke.cjs <bundle>`, for `npm run bench`: in this fresh process, loads a
// bundled handler as the Lambda runtime would and invokes it twice with BENCH_EVENT. AppConfig
// serves BENCH_ACCESS_CONFIG through aws-sdk-client-mock (the SDK is external to the bundle, as
// on Lambda), so the first invocation pays for reading, validating and indexing the access
// configuration, and nothing leaves the machine. Prints {loadMs, firstMs, secondMs} as JSON.
const { performance } = require('node:perf_hooks');
const { mockClient } = require('aws-sdk-client-mock');
const {
  AppConfigDataClient,
  GetLatestConfigurationCommand,
  StartConfigurationSessionCommand,
} = require('@aws-sdk/client-appconfigdata');

mockClient(AppConfigDataClient)
  .on(StartConfigurationSessionCommand)
  .resolves({ InitialConfigurationToken: 'session-0' })
  .on(GetLatestConfigurationCommand)
  .resolves({
    Configuration: new TextEncoder().encode(process.env.BENCH_ACCESS_CONFIG ?? ''),
    ContentType: 'application/json',
    NextPollConfigurationToken: 'session-1',
  });

const context = {
  functionName: 'bench',
  awsRequestId: 'bench-request',
  getRemainingTimeInMillis: () => 10_000,
};
const event = JSON.parse(process.env.BENCH_EVENT ?? '{}');
const invoke = async (handler) => {
  const started = performance.now();
  await handler(event, context).catch(() => undefined);
  return performance.now() - started;
};

(async () => {
  const started = performance.now();
  const { handler } = require(process.argv[2]);
  const loadMs = performance.now() - started;
  const firstMs = await invoke(handler);
  const secondMs = await invoke(handler);
  process.stdout.write(JSON.stringify({ loadMs, firstMs, secondMs }));
})();
