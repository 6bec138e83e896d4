import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';

export interface RestEventInput {
  readonly method?: string;
  /** e.g. `/v1/device/find` */
  readonly path: string;
  readonly body?: unknown;
  /** A raw body, sent as is (wins over `body`). */
  readonly rawBody?: string;
  readonly headers?: Record<string, string>;
}

/**
 * An API Gateway REST (v1 proxy) event as the CDK stack's explicit `/v1/{controller}/{operation}`
 * resources deliver it: no path parameters, the resource path names the operation.
 */
export function restEvent(input: RestEventInput): APIGatewayProxyEvent {
  const method = input.method ?? 'POST';
  const body = input.rawBody ?? (input.body === undefined ? null : JSON.stringify(input.body));
  const headers = {
    'Content-Type': 'application/json',
    Host: 'abc123.execute-api.eu-west-1.amazonaws.com',
    'User-Agent': 'partner-service/1.0',
    'X-Forwarded-For': '203.0.113.10',
    ...input.headers,
  };
  return {
    resource: input.path,
    path: input.path,
    httpMethod: method,
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    body,
    isBase64Encoded: false,
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123',
      authorizer: { principalId: 'partner', integrationLatency: 12 },
      protocol: 'HTTP/1.1',
      httpMethod: method,
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: '203.0.113.10',
        user: null,
        userAgent: 'partner-service/1.0',
        userArn: null,
      },
      path: `/prod${input.path}`,
      stage: 'prod',
      requestId: randomUUID(),
      requestTimeEpoch: Date.now(),
      resourceId: 'res123',
      resourcePath: input.path,
    },
  };
}

/** A Lambda context with a 10 s budget. */
export function lambdaContext(): Context {
  const deadline = Date.now() + 10_000;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'ioto-bff-proxy',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:ioto-bff-proxy',
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: '/aws/lambda/ioto-bff-proxy',
    logStreamName: '2026/11/26/[$LATEST]abc',
    getRemainingTimeInMillis: () => deadline - Date.now(),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
