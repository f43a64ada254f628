/**
 * Names on Redis for the batch queue. BullMQ keeps a queue's batches under
 * `<prefix>:<queue>:*`; the run records sit beside them under `<prefix>:<queue>:run:<id>`.
 * `--queue NAME` keeps teams apart on one Redis.
 */
import { InvalidArgumentError } from '../../errors.js';

export const DEFAULT_QUEUE_NAME = 'shadowfleet';
export const DEFAULT_QUEUE_PREFIX = 'shadowfleet';

export function validateQueueName(name: unknown, option = '--queue'): string {
  if (typeof name !== 'string' || !/^[A-Za-z0-9_.-]{1,64}$/.test(name)) {
    throw new InvalidArgumentError(
      `${option} must be 1-64 letters, digits, '.', '_' or '-', got ${JSON.stringify(name)}`,
    );
  }
  return name;
}

/** Where one queue's records live. */
export class QueueNames {
  readonly prefix: string;
  readonly queue: string;
  constructor(queue = DEFAULT_QUEUE_NAME, prefix = DEFAULT_QUEUE_PREFIX) {
    this.queue = validateQueueName(queue);
    this.prefix = validateQueueName(prefix, 'prefix');
  }
  /** The run's record (a hash: identity, state, counts). */
  run(runId: string): string {
    return `${this.prefix}:${this.queue}:run:${runId}`;
  }
  /** Per-worker counts of a run (a hash: `<worker>|items`, `|batches`, `|busyMs`, `|first`, `|last`). */
  runWorkers(runId: string): string {
    return `${this.prefix}:${this.queue}:run:${runId}:workers`;
  }
  /** Batches of a run already counted (a hash seq -> 1): a batch taken twice counts once. */
  runCounted(runId: string): string {
    return `${this.prefix}:${this.queue}:run:${runId}:counted`;
  }
  /** Runs by creation time (a sorted set). */
  runs(): string {
    return `${this.prefix}:${this.queue}:runs`;
  }
  /** Pub/sub channel for cancel notices. */
  control(): string {
    return `${this.prefix}:${this.queue}:control`;
  }
  /** The BullMQ job id of a batch (BullMQ ids may not hold ':'). */
  batchId(runId: string, seq: number): string {
    return `${runId}.${seq}`;
  }
}

/** A new run id: time-ordered and unique enough across hosts. */
export function newRunId(now = Date.now()): string {
  return `r${now.toString(36)}${Math.random().toString(36).slice(2, 8)}`;
}

export function validateRunId(id: unknown): string {
  if (typeof id !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(id))
    throw new InvalidArgumentError(`job id must be letters, digits, '_' or '-', got ${JSON.stringify(id)}`);
  return id;
}
