import { EMULATOR_OPERATIONS, type EmulatorOperation } from './emulator-options.js';

export interface OperationCounters {
  requests: number;
  throttled: number;
  faults: number;
  /** Error answers other than throttles and injected faults (4xx from validation, 404, 409, ...). */
  errors: number;
}

export interface EmulatorStats {
  operations: Record<EmulatorOperation, OperationCounters>;
  totals: OperationCounters;
  /** Requests to unknown routes or methods. */
  unrouted: number;
  /** Requests refused by SigV4 verification. */
  unauthorized: number;
  /** Connections closed on arrival because maxConnections were open. */
  connectionsRefused: number;
  /** Reports written by simulated devices. */
  deviceReports: number;
  /** Live shadows, things ever created, retained messages. */
  shadows: number;
  things: number;
  retainedMessages: number;
  uptimeMs: number;
}

class Counters implements OperationCounters {
  requests = 0;
  throttled = 0;
  faults = 0;
  errors = 0;
}

/** Counters a test or benchmark reads: requests, throttles, faults and errors per operation. */
export class EmulatorCounters {
  readonly ops: Record<EmulatorOperation, Counters>;
  unrouted = 0;
  unauthorized = 0;
  connectionsRefused = 0;
  deviceReports = 0;
  readonly #started = Date.now();

  constructor() {
    const ops = {} as Record<EmulatorOperation, Counters>;
    for (const op of EMULATOR_OPERATIONS) ops[op] = new Counters();
    this.ops = ops;
  }

  snapshot(extra: { shadows: number; things: number; retainedMessages: number }): EmulatorStats {
    const operations = {} as Record<EmulatorOperation, OperationCounters>;
    const totals: OperationCounters = { requests: 0, throttled: 0, faults: 0, errors: 0 };
    for (const op of EMULATOR_OPERATIONS) {
      const c = this.ops[op];
      operations[op] = { requests: c.requests, throttled: c.throttled, faults: c.faults, errors: c.errors };
      totals.requests += c.requests;
      totals.throttled += c.throttled;
      totals.faults += c.faults;
      totals.errors += c.errors;
    }
    return {
      operations,
      totals,
      unrouted: this.unrouted,
      unauthorized: this.unauthorized,
      connectionsRefused: this.connectionsRefused,
      deviceReports: this.deviceReports,
      ...extra,
      uptimeMs: Date.now() - this.#started,
    };
  }

  reset(): void {
    for (const op of EMULATOR_OPERATIONS)
      Object.assign(this.ops[op], { requests: 0, throttled: 0, faults: 0, errors: 0 });
    this.unrouted = 0;
    this.unauthorized = 0;
    this.connectionsRefused = 0;
    this.deviceReports = 0;
  }
}
