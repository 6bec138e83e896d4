import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';

/**
 * The baseline of `npm run bench`: the least a Lambda can do to forward a partner's call to
 * Ioto. It reads the token once per container with the same Secrets Manager client as the proxy
 * and forwards the body with `fetch`; no validation, no authorization, no logs, metrics or
 * traces. The proxy's figures are reported as ratios to this handler's.
 */
const client = new SecretsManagerClient({});
let token: Promise<string> | undefined;

export const handler = async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
  token ??= client
    .send(new GetSecretValueCommand({ SecretId: process.env.IOTO_TOKEN_SECRET_ID }))
    .then((secret) => (JSON.parse(secret.SecretString ?? '{}') as { token: string }).token);
  const [, , controller, operation] = event.path.split('/');
  const answer = await fetch(`${process.env.IOTO_ENDPOINT}/tok/${controller}/${operation}`, {
    method: 'POST',
    headers: { authorization: await token, 'content-type': 'application/json' },
    body: event.body ?? '{}',
  });
  return {
    statusCode: answer.status,
    headers: { 'content-type': 'application/json' },
    body: await answer.text(),
  };
};
