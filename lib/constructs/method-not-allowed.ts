import {
  type MethodResponse,
  MockIntegration,
  PassthroughBehavior,
} from 'aws-cdk-lib/aws-apigateway';
import { MethodNotAllowedError } from '../../lambda/problems/problem-error';
import { PROBLEM_CONTENT_TYPE, toProblem } from '../../lambda/problems/to-problem';

/** The headers of the 405 answer, as method response parameters. */
const HEADERS = {
  allow: "'POST'",
  'content-type': `'${PROBLEM_CONTENT_TYPE}'`,
  'cache-control': "'no-store'",
  'x-content-type-options': "'nosniff'",
  'x-request-id': 'context.requestId',
} as const;

/**
 * The answer to any method but POST on an operation's route: API Gateway itself replies 405
 * `method_not_allowed` with `Allow: POST`, rendered from the proxy's own problem class (so it
 * reads exactly as the local gateway's), without invoking a function. Without it API Gateway
 * would answer a GET on a route like an unknown route (404).
 */
export function methodNotAllowed(): {
  readonly integration: MockIntegration;
  readonly methodResponses: MethodResponse[];
} {
  const problem = toProblem(new MethodNotAllowedError(), '$context.requestId');
  const responseParameters = Object.fromEntries(
    Object.entries(HEADERS).map(([name, value]) => [`method.response.header.${name}`, value]),
  );
  return {
    integration: new MockIntegration({
      // Whatever the request carries, the mock answers; its one response is the default one.
      passthroughBehavior: PassthroughBehavior.WHEN_NO_TEMPLATES,
      requestTemplates: { 'application/json': '{"statusCode": 405}' },
      integrationResponses: [
        {
          statusCode: '405',
          responseParameters,
          responseTemplates: { 'application/json': JSON.stringify(problem.body) },
        },
      ],
    }),
    methodResponses: [
      {
        statusCode: '405',
        responseParameters: Object.fromEntries(
          Object.keys(responseParameters).map((name) => [name, true]),
        ),
      },
    ],
  };
}
