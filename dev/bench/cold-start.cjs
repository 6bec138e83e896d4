// `node dev/bench/cold-start.cjs <bundle>`, for `npm run bench`: in this fresh process, loads a
// bundled handler as the Lambda runtime would and invokes it once with BENCH_EVENT, against the
// endpoints the environment names (the simulator, Secrets Manager and AppConfig fakes of the
// parent). Prints {loadMs, firstMs, status} as JSON: a cold start, load and first invocation.
const { performance } = require('node:perf_hooks');

const event = JSON.parse(process.env.BENCH_EVENT ?? '{}');
const context = {
  functionName: 'bench',
  functionVersion: '1',
  invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:bench',
  memoryLimitInMB: '512',
  awsRequestId: 'bench-request',
  getRemainingTimeInMillis: () => 10_000,
};

(async () => {
  const started = performance.now();
  const { handler } = require(process.argv[2]);
  const loaded = performance.now();
  const result = await handler(event, context);
  const firstMs = performance.now() - loaded;
  process.stdout.write(
    JSON.stringify({ loadMs: loaded - started, firstMs, status: result.statusCode }),
  );
})();
