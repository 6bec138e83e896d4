import { createHash } from 'node:crypto';
import { badRequest } from '../errors';
import { empty, json, type OperationTable } from '../operation';
import { optionalBoolean, requireBoolean, requireString } from '../request-fields';
import { SEED } from '../seed';
import { certificatesFor } from './device';

/**
 * Provision controller (docs/ioto-api.md §3.8). These are device-role operations, so the device is
 * found in whichever account claimed it.
 */

/** Compares dotted numeric versions (`1.3.2` < `1.4.0`). */
function compareVersions(a: string, b: string): number {
  const left = a.split('.').map(Number);
  const right = b.split('.').map(Number);
  for (let i = 0; i < Math.max(left.length, right.length); i += 1) {
    const difference = (left[i] ?? 0) - (right[i] ?? 0);
    if (difference !== 0) return Number.isNaN(difference) ? 0 : Math.sign(difference);
  }
  return 0;
}

/** A fixed, fake checksum of the simulated firmware image. */
const CHECKSUM = createHash('sha256')
  .update(`ioto-simulator firmware ${SEED.latestVersion}`)
  .digest('hex');

export const PROVISION_OPERATIONS: OperationTable = {
  getCerts: (state, { body }) =>
    json(certificatesFor(state.claimedDevice(requireString(body, 'id')))),

  /**
   * `version` is the device's current firmware (the agent sends it, ref §3.8 notes). An older
   * device gets `{checksum, version, url, update}`; an up-to-date one gets `{message}`.
   */
  update: (state, { body }) => {
    const device = state.claimedDevice(requireString(body, 'id'));
    requireString(body, 'product');
    const version = requireString(body, 'version');
    optionalBoolean(body, 'test');
    device.version = version;
    device.checked = version;
    if (compareVersions(version, SEED.latestVersion) >= 0) {
      return json({ message: 'No update available' });
    }
    return json({
      checksum: CHECKSUM,
      version: SEED.latestVersion,
      url: `https://sim.s3.example/updates/${SEED.updateId}/firmware-${SEED.latestVersion}.bin`,
      update: SEED.updateId,
    });
  },

  /**
   * Ioto does not document the answer (ref §10.12): 200 with an empty body. A successful
   * report of the simulated update moves the device to the latest version.
   */
  updateReport: (state, { body }) => {
    const device = state.claimedDevice(requireString(body, 'id'));
    const update = requireString(body, 'update');
    const success = requireBoolean(body, 'success');
    if (update !== SEED.updateId) throw badRequest('Cannot find update');
    if (success) device.version = SEED.latestVersion;
    state.data.updateReports.push({ id: device.id, update, success, received: state.now() });
    return empty();
  },
};
