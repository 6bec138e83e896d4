/**
 * Ioto answers every failure with a `text/plain` body holding the message and one of the
 * statuses 400, 403 or 500 (docs/ioto-api.md §2.8, §7). 404 and 405 are what API Gateway answers
 * for a route it does not know; the reference does not list them, so the simulator keeps them
 * for requests that never reach an Ioto controller.
 */
export type SimulatorErrorStatus = 400 | 403 | 404 | 405 | 500;

/** A failure the simulator answers as `text/plain` with the given status. */
export class SimulatorError extends Error {
  readonly status: SimulatorErrorStatus;

  constructor(status: SimulatorErrorStatus, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'SimulatorError';
    this.status = status;
  }
}

/** A 400 "bad request" with Ioto's wording style (`Cannot find device`, ref §2.8). */
export const badRequest = (message: string): SimulatorError => new SimulatorError(400, message);
