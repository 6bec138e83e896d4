/**
 * An in-memory EmbedThis Ioto device cloud for tests and the local demo (`npm start`).
 * See `server.ts` for the HTTP layer, `handlers/` for the operations and `seed.ts` for data.
 */
export type { SimulatorAuthScheme, SimulatorCursors, SimulatorEnvelope } from './dialect';
export type { FaultStatus, SimulatorFaults } from './faults';
export { MALFORMED_BODY } from './faults';
export { SIMULATED_OPERATIONS } from './handlers';
export type { PagedReply, PageKey } from './paging';
export { DEFAULT_LIMIT, MAX_LIMIT } from './paging';
export { sampleRequests } from './sample-requests';
export type { SeedAccount } from './seed';
export { SEED } from './seed';
export type { RecordedRequest, SimulatorOptions } from './server';
export { IotoSimulator } from './server';
