import type * as AppConfigData from '@aws-sdk/client-appconfigdata';
import { mockClient } from 'aws-sdk-client-mock';

/** Where the deployed functions are told the access configuration is (fake ids). */
export const ACCESS_CONFIG_LOCATION = {
  ACCESS_CONFIG_APPLICATION: 'app-ioto-bff-test',
  ACCESS_CONFIG_ENVIRONMENT: 'env-live',
  ACCESS_CONFIG_PROFILE: 'profile-access',
} as const;

/**
 * AWS AppConfig's data plane as the functions meet it, through aws-sdk-client-mock on the SDK
 * module the function loads: a configuration session for exactly {@link ACCESS_CONFIG_LOCATION}
 * (anything else is ResourceNotFoundException, as AppConfig answers), then `content()` on every
 * read. Counts sessions and reads.
 */
export function serveAccessConfig(sdk: typeof AppConfigData, content: () => string) {
  const calls = { sessions: 0, reads: 0 };
  const mock = mockClient(sdk.AppConfigDataClient);
  mock.on(sdk.StartConfigurationSessionCommand).callsFake(async (input) => {
    const { ACCESS_CONFIG_APPLICATION, ACCESS_CONFIG_ENVIRONMENT, ACCESS_CONFIG_PROFILE } =
      ACCESS_CONFIG_LOCATION;
    if (
      input.ApplicationIdentifier !== ACCESS_CONFIG_APPLICATION ||
      input.EnvironmentIdentifier !== ACCESS_CONFIG_ENVIRONMENT ||
      input.ConfigurationProfileIdentifier !== ACCESS_CONFIG_PROFILE
    ) {
      throw Object.assign(new Error('ResourceNotFoundException'), {
        name: 'ResourceNotFoundException',
      });
    }
    calls.sessions += 1;
    return { InitialConfigurationToken: 'session-token-0' };
  });
  mock.on(sdk.GetLatestConfigurationCommand).callsFake(async () => {
    calls.reads += 1;
    return {
      Configuration: new TextEncoder().encode(content()),
      ContentType: 'application/json',
      NextPollConfigurationToken: `session-token-${calls.reads}`,
      NextPollIntervalInSeconds: 60,
    };
  });
  return { mock, calls };
}
