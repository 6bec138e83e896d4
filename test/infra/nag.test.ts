import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { configWith, OIDC_OVERRIDES, synthesize } from './stack-fixtures';

/** Every finding of a pack on the app, acknowledged ones excluded, as readable lines. */
const findings = (
  pack: AwsSolutionsChecks | ServerlessChecks,
  app: ReturnType<typeof synthesize>['app'],
) =>
  pack
    .validateScope(app)
    .violations.flatMap((v) =>
      v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath ?? r.resourceLogicalId}`),
    );

describe('cdk-nag', () => {
  it.each([
    ['the sample configuration', configWith()],
    ['the web firewall switched off', configWith({ waf: { enabled: false } })],
    [
      'an external OIDC issuer and an imported token secret',
      configWith({
        ioto: {
          endpoint: 'https://ioto.example.com',
          tokenSecret: { name: 'ioto/cloudapi-token' },
        },
        ...OIDC_OVERRIDES,
      }),
    ],
  ])('reports no unacknowledged AwsSolutions or Serverless finding with %s', (_name, config) => {
    const { app } = synthesize(config);
    expect(findings(new AwsSolutionsChecks(), app)).toEqual([]);
    expect(findings(new ServerlessChecks(), app)).toEqual([]);
  });

  it('does report a finding that is not acknowledged (the check is live)', () => {
    const { app, stack } = synthesize();
    // A bare secret without rotation, outside every construct that acknowledges SMG4.
    new Secret(stack, 'Unacknowledged');
    expect(findings(new AwsSolutionsChecks(), app)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^AwsSolutions-SMG4 at .*Unacknowledged/)]),
    );
  });
});
