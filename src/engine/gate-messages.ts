/** Messages between a worker's gate and the coordinator's RateGate, over a MessagePort. */
import type { OperationName } from '../client/index.js';

export type GateRequest = { t: 'take'; op: OperationName; want: number } | { t: 'throttle'; op: OperationName };

/** `error`: the take failed; `aborted`: because the gate was closed (the run stopped), not because it failed. */
export type GateReply = { t: 'grant'; op: OperationName; n: number; error?: string; aborted?: boolean };
