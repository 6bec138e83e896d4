import { badRequest } from './errors';
import type { AccountRecord, DeviceRecord, SimulatorData } from './model';
import type { JsonObject } from './operation';
import { optionalString } from './request-fields';
import { createSeedData, RUNTIME_SEQ_START, SEED, ulidLike } from './seed';

/**
 * The simulator's mutable data plus the lookups every controller shares: which account a
 * request acts on and which devices it may name.
 */
export class SimulatorState {
  readonly data: SimulatorData = createSeedData();
  readonly cloudId: string = SEED.cloudId;
  private seq = RUNTIME_SEQ_START;

  /** A new record id; ids made at run time sort after every seeded id of the same kind. */
  newId(tag: string): string {
    this.seq += 1;
    return ulidLike(tag, this.seq);
  }

  /** Dates written at run time are the real time: only the seed is frozen in time. */
  now(): string {
    return new Date().toISOString();
  }

  /**
   * The account an operation acts on. A CloudAPI token is owner over every account, and owners
   * pick the target with `accountId` (docs/ioto-api.md §2.3, §3.1); without it the request acts on the
   * owner's own account, which is the first seeded one.
   */
  account(body: JsonObject, field = 'accountId'): AccountRecord {
    const id = optionalString(body, field) ?? SEED.ownerAccountId;
    return this.accountById(id);
  }

  /** Like {@link account} but `accountId` is mandatory (device/find with a CloudAPI token). */
  requireAccount(body: JsonObject, message: string): AccountRecord {
    const id = optionalString(body, 'accountId');
    if (id === undefined) throw badRequest(message);
    return this.accountById(id);
  }

  accountById(id: string): AccountRecord {
    const account = this.data.accounts.get(id);
    if (account === undefined) throw badRequest('Unknown account');
    return account;
  }

  /** A device claimed by the given account, or 400 `Cannot find device` (ref §2.8). */
  deviceInAccount(account: AccountRecord, id: string): DeviceRecord {
    const device = this.data.devices.get(id);
    if (device === undefined || device.accountId !== account.id) {
      throw badRequest('Cannot find device');
    }
    return device;
  }

  /**
   * A claimed device in any account. Device-role operations (provisioning, credentials) are
   * addressed by the device itself, not by an account (ref §3.5, §3.8).
   */
  claimedDevice(id: string): DeviceRecord {
    const device = this.data.devices.get(id);
    if (device === undefined) throw badRequest('Cannot find device');
    return device;
  }
}
