/** Messages between a worker's gate and the coordinator's RateGate, over a MessagePort. */
import type { OperationName } from '../client/index.js';

export type GateRequest = { t: 'take'; op: OperationName; want: number } | { t: 'throttle'; op: OperationName };

export type GateReply = { t: 'grant'; op: OperationName; n: number; error?: string };
