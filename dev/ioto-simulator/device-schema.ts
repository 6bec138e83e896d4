import { SEED } from './seed';

/**
 * The device schema that metric/getDeviceSchema and user/login return. Ioto documents only
 * "schema definition" (docs/ioto-api.md §3.7, §3.10, §10.12); the simulator answers a small OneTable-style
 * schema (Ioto stores its data with OneTable) describing the two seeded Generic types.
 */
export const DEVICE_SCHEMA = Object.freeze({
  format: 'onetable:1.1.0',
  version: '0.0.1',
  indexes: { primary: { hash: 'pk', sort: 'sk' }, gs1: { hash: 'gs1pk', sort: 'gs1sk' } },
  models: {
    [SEED.storeType]: {
      pk: { type: 'string' },
      sk: { type: 'string' },
      accountId: { type: 'string' },
      deviceId: { type: 'string' },
      key: { type: 'string', required: true },
      value: { type: 'object' },
      type: { type: 'string', enum: ['string', 'number', 'boolean', 'object'] },
      role: { type: 'string' },
      expires: { type: 'date' },
      _source: { type: 'string' },
    },
    [SEED.eventType]: {
      pk: { type: 'string' },
      sk: { type: 'string' },
      id: { type: 'string', generate: 'ulid' },
      accountId: { type: 'string' },
      deviceId: { type: 'string' },
      name: { type: 'string' },
      severity: { type: 'string' },
      message: { type: 'string' },
      timestamp: { type: 'date' },
    },
  },
  params: { isoDates: true, timestamps: true },
});
