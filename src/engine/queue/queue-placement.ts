/**
 * The queue as a job placement (see ../job-placement.ts): each JobRun gets a runner that puts
 * its batches on the BullMQ queue (QueueBatchRunner) and, unless rates are off, the account
 * gate shared through Redis, so `setRate` (a ramp) and AIMD act on the rate every worker
 * draws from. The submitter takes no permits itself: its workers do.
 */
import { Redis } from 'ioredis';
import type { BatchRunner, BatchRunnerFactory, BatchTask } from '../batch-runner.js';
import type { JobPlacement, Placement } from '../job-placement.js';
import type { RateGateOptions } from '../rate-gate.js';
import type { ItemResult } from '../task-types.js';
import { QueueBatchRunner } from './queue-batch-runner.js';
import type { QueuedRates } from './queued-batch.js';
import { redisOptions, type RedisCallCounter } from './redis-connection.js';
import { RedisRateGate } from './redis-rate-gate.js';

export interface QueuePlacementOptions {
  redisUrl: string;
  queue?: string;
  prefix?: string;
  /** The first run's id (a detached submitter's, chosen by its parent; or the run `attach` takes over). */
  runId?: string;
  /** Take over the existing run `runId` (its submitter died): adopt its outstanding batches first. */
  adopt?: boolean;
  /** Stored in the run record (e.g. the command line and directory, so `attach` can take over). */
  detail?: unknown;
  /** Told the run id once the run record exists. */
  onRun?: (runId: string) => void;
  /** Called when the run is cancelled from elsewhere (the CLI interrupts the job). */
  onCancel?: () => void;
  counter?: RedisCallCounter;
}

/** The serialisable part of the rate options (they travel with every batch). */
function queuedRates(rates: RateGateOptions | 'off' | undefined): QueuedRates | 'off' {
  if (rates === 'off') return 'off';
  const { now: _clock, thingRps: _r, thingInFlight: _f, refillIntervalMs: _i, ...rest } = rates ?? {};
  return rest as QueuedRates;
}

class QueuePlacementRunner implements BatchRunner {
  #ready: Promise<QueueBatchRunner>;
  #adopting: Promise<number> | undefined;
  #adopt: boolean;
  #onClose: () => Promise<void>;

  constructor(ready: Promise<QueueBatchRunner>, adopt: boolean, onClose: () => Promise<void>) {
    this.#ready = ready;
    this.#adopt = adopt;
    this.#onClose = onClose;
    ready.catch(() => undefined);
  }

  async run<C>(task: BatchTask<C>): Promise<ItemResult[]> {
    const runner = await this.#ready;
    if (this.#adopt) {
      this.#adopting ??= runner.adoptOutstanding();
      await this.#adopting;
    }
    return runner.run(task);
  }

  async close(): Promise<void> {
    const runner = await this.#ready.catch(() => undefined);
    if (runner !== undefined) {
      await runner.finish('done').catch(() => undefined);
      await runner.close();
    }
    await this.#onClose();
  }
}

export function queuePlacement(o: QueuePlacementOptions): JobPlacement {
  let firstRunId = o.runId;
  return ({ client, rates }): Placement => {
    const runId = firstRunId;
    firstRunId = undefined;
    const qrates = queuedRates(rates);
    let gate: RedisRateGate | undefined;
    let gateRedis: Redis | undefined;
    if (qrates !== 'off') {
      // The command line checked that Redis answers before the job started.
      gateRedis = new Redis(o.redisUrl, { ...redisOptions(o.redisUrl), lazyConnect: false });
      gateRedis.on('error', () => undefined);
      o.counter?.attach(gateRedis);
      gate = new RedisRateGate({
        ...(rates === undefined || rates === 'off' ? {} : rates),
        redis: gateRedis,
        redisUrl: o.redisUrl,
        account: client.endpoint,
        ...(o.prefix === undefined ? {} : { prefix: o.prefix }),
      });
    }
    const factory: BatchRunnerFactory = () => {
      const ready = QueueBatchRunner.open({
        redisUrl: o.redisUrl,
        ...(o.queue === undefined ? {} : { queue: o.queue }),
        ...(o.prefix === undefined ? {} : { prefix: o.prefix }),
        ...(o.adopt === true && runId !== undefined
          ? { runId }
          : { run: { kind: 'job', detail: o.detail ?? null }, ...(runId === undefined ? {} : { newRunId: runId }) }),
        rates: qrates,
        ...(o.counter === undefined ? {} : { counter: o.counter }),
      }).then((r) => {
        o.onRun?.(r.runId);
        if (o.onCancel !== undefined) r.onCancel(o.onCancel);
        return r;
      });
      return new QueuePlacementRunner(ready, o.adopt === true && runId !== undefined, async () => {
        await gate?.close();
        gateRedis?.disconnect();
      });
    };
    return gate === undefined ? { runner: factory } : { runner: factory, gate };
  };
}
