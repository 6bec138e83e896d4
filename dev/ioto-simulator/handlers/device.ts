import { badRequest } from '../errors';
import {
  fakeAwsCredentials,
  fakeDeviceCertificate,
  MQTT_ENDPOINT,
  MQTT_PORT,
} from '../fake-credentials';
import type { DeviceRecord } from '../model';
import { json, type OperationTable } from '../operation';
import { page } from '../paging';
import { optionalBoolean, optionalNumber, optionalString, requireString } from '../request-fields';
import type { SimulatorState } from '../state';

/** Device controller (docs/ioto-api.md §3.5). */

const SIGNED_URL_COMMANDS = new Set(['get', 'put', 'delete']);

/** The answer of device/provision and provision/getCerts (ref §3.5, §3.8). */
export function certificatesFor(device: DeviceRecord): Record<string, unknown> {
  return {
    accountId: device.accountId,
    ...fakeDeviceCertificate(device.id),
    endpoint: MQTT_ENDPOINT,
    id: device.id,
    port: MQTT_PORT,
    thing: device.id,
  };
}

/**
 * Release hands the device back to the Builder (ref §3.5): it leaves the account, becomes
 * claimable again, and its Generic items in the account go with it, so that Generic's "must
 * be a device of the account" rule (ref §3.6) never sees orphans.
 */
function release(state: SimulatorState, device: DeviceRecord): void {
  const { data } = state;
  data.devices.delete(device.id);
  for (const [key, item] of data.items) {
    if (item.accountId === device.accountId && item.deviceId === device.id) {
      data.items.delete(key);
    }
  }
  data.unclaimed.set(device.id, {
    id: device.id,
    product: device.product,
    productId: device.productId,
    version: device.version,
  });
}

export const DEVICE_OPERATIONS: OperationTable = {
  /**
   * Moves a registered, unclaimed device into the account. A claimed id is 400 (the reference
   * is silent). `test` is accepted though undocumented, as the page mentions test claims
   * (ref §10.11).
   */
  claim: (state, { body }) => {
    const account = state.account(body);
    const id = requireString(body, 'id');
    const test = optionalBoolean(body, 'test') ?? false;
    if (state.data.devices.has(id)) throw badRequest('Device already claimed');
    const unclaimed = state.data.unclaimed.get(id);
    if (unclaimed === undefined) throw badRequest('Cannot find device');
    const now = state.now();
    const device: DeviceRecord = {
      ...unclaimed,
      accountId: account.id,
      created: now,
      accessed: now,
      test,
    };
    state.data.unclaimed.delete(id);
    state.data.devices.set(id, device);
    return json(device);
  },

  /** `accountId` is required with a CloudAPI token (ref §3.5 Find). */
  find: (state, { body, query }) => {
    const account = state.requireAccount(body, 'Missing accountId');
    const id = optionalString(body, 'id');
    const productId = optionalString(body, 'productId');
    const devices = [...state.data.devices.values()].filter(
      (device) =>
        device.accountId === account.id &&
        (id === undefined || device.id === id) &&
        (productId === undefined || device.productId === productId),
    );
    return json(
      page(
        {
          pk: `account#${account.id}`,
          skPrefix: 'device#',
          entries: devices.map((device) => ({ sk: `device#${device.id}`, value: device })),
        },
        query,
      ),
    );
  },

  get: (state, { body }) =>
    json(state.deviceInAccount(state.account(body), requireString(body, 'id'))),

  /** Takes no body (the agent sends none, ref §3.5). */
  getCreds: () => json(fakeAwsCredentials(new Date())),

  /**
   * Answers a JSON string literal (ref §2.5 item 4). `id` is required here although the page
   * does not mark it: with a CloudAPI token nothing else names the device.
   */
  getSignedUrl: (state, { body }) => {
    const device = state.claimedDevice(requireString(body, 'id'));
    const command = optionalString(body, 'command') ?? 'get';
    if (!SIGNED_URL_COMMANDS.has(command)) throw badRequest('Invalid property "command"');
    const filename = optionalString(body, 'filename') ?? 'data.bin';
    optionalString(body, 'mimeType');
    optionalNumber(body, 'size');
    const path = [device.accountId, device.id, filename].map(encodeURIComponent).join('/');
    return json(
      `https://sim.s3.example/${path}?command=${command}&expires=3600&signature=simulated`,
    );
  },

  provision: (state, { body }) =>
    json(certificatesFor(state.claimedDevice(requireString(body, 'id')))),

  /**
   * Answers the device record as it was before the release. Release takes only the claim id
   * (ref §3.5), so like the device-role operations it finds the device in whichever account
   * holds it; an `accountId`, when sent, confines the search to that account.
   */
  release: (state, { body }) => {
    const id = requireString(body, 'id');
    const device =
      body.accountId === undefined
        ? state.claimedDevice(id)
        : state.deviceInAccount(state.account(body), id);
    release(state, device);
    return json(device);
  },
};
