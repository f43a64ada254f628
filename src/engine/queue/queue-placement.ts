/**
 * The queue as a job placement (see ../job-placement.ts): one submission, one run id. Every
 * JobRun the job opens with this placement (sync: its two sides; a multi-account plan: one per
 * account; apply: the plan's read, then one rollout per group) queues its batches on the BullMQ
 * queue under the same run id, each as a lane of its own, named by its account and its rank
 * among the JobRuns on that account (`<endpoint host>#0`, `#1`...: the same on a re-run however
 * the job's accounts interleave). `status`, `attach` and `cancel` of that id therefore cover
 * them all: the run record counts every lane's batches, a cancel reaches every lane, and a
 * take-over adopts each lane's outstanding batches into the lane of the same name.
 *
 * Each JobRun also gets, unless its rates are off, the account gate shared through Redis, keyed
 * by that JobRun's own client endpoint (`<prefix>:gate:<endpoint host>:<operation>`, see
 * gateAccountKey): two JobRuns on two accounts draw from two buckets, two on one account from
 * one, and the workers take permits from the same keys (they key by each batch's endpoint).
 * `setRate` (a ramp) and AIMD act on the rate every worker draws from; the submitter takes no
 * permits itself.
 *
 * The first JobRun's lane holds the run for the submission: it creates the record (or takes
 * over `runId`), beats the submitter's heartbeat and listens for a cancel until `finish()`; later
 * lanes join the run and leave it when their JobRun closes. Call `finish()` once the job has
 * returned.
 */
import { Redis } from 'ioredis';
import type { BatchRunner, BatchRunnerFactory, BatchTask } from '../batch-runner.js';
import type { JobPlacement, JobPlacementContext, Placement } from '../job-placement.js';
import type { RateGateOptions } from '../rate-gate.js';
import type { ItemResult } from '../task-types.js';
import { QueueBatchRunner } from './queue-batch-runner.js';
import { DEFAULT_QUEUE_NAME, DEFAULT_QUEUE_PREFIX, newRunId, QueueNames, validateRunId } from './queue-names.js';
import type { QueuedRates } from './queued-batch.js';
import { connectRedis, redisOptions, type RedisCallCounter } from './redis-connection.js';
import { gateAccountKey, RedisRateGate } from './redis-rate-gate.js';
import { RunStore } from './run-store.js';

export interface QueuePlacementOptions {
  redisUrl: string;
  queue?: string;
  prefix?: string;
  /** The run id (a detached submitter's, chosen by its parent; or the run `attach` takes over). Default: a new one. */
  runId?: string;
  /** Take over the existing run `runId` (its submitter died): each lane adopts its outstanding batches first. */
  adopt?: boolean;
  /** The run record's kind (e.g. the command). Default 'job'. */
  kind?: string;
  /** Stored in the run record (e.g. the command line and directory, so `attach` can take over). */
  detail?: unknown;
  /** Told the run id once the run record exists. */
  onRun?: (runId: string) => void;
  /** Called when the run is cancelled from elsewhere (the CLI interrupts the job). */
  onCancel?: () => void;
  counter?: RedisCallCounter;
  /**
   * Batches each JobRun keeps on the queue at once, unless the job sets its own: the worker
   * processes' capacity (their `--concurrency` summed), not this host's cores. Default 16.
   */
  maxBatchesInFlight?: number;
}

/** Batches in flight per JobRun on the queue by default: room for eight workers of concurrency 2. */
const DEFAULT_BATCHES_IN_FLIGHT = 16;

/** A job placement on the queue: give it to a job's options, then `finish()` once the job returned. */
export interface QueuePlacement extends JobPlacement {
  /** The run id of the submission, fixed before anything is queued. */
  readonly runId: string;
  /** JobRuns placed so far. */
  readonly lanes: number;
  /**
   * Ends the submission: records how it ended (a cancelled run stays cancelled), removes the
   * collected batches, closes the first lane's connections. A job that placed nothing leaves no record
   * behind (a record made beforehand, e.g. by `--detach`, is marked as ended). Safe to call twice.
   */
  finish(state?: 'done' | 'failed'): Promise<void>;
}

/** The serialisable part of the rate options (they travel with every batch). */
function queuedRates(rates: RateGateOptions | 'off' | undefined): QueuedRates | 'off' {
  if (rates === 'off') return 'off';
  const { now: _clock, thingRps: _r, thingInFlight: _f, refillIntervalMs: _i, ...rest } = rates ?? {};
  return rest as QueuedRates;
}

class LaneRunner implements BatchRunner {
  #ready: Promise<QueueBatchRunner>;
  #adopting: Promise<number> | undefined;
  #adopt: boolean;
  #onClose: (runner: QueueBatchRunner | undefined) => Promise<void>;

  constructor(
    ready: Promise<QueueBatchRunner>,
    adopt: boolean,
    onClose: (runner: QueueBatchRunner | undefined) => Promise<void>,
  ) {
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
    await this.#onClose(await this.#ready.catch(() => undefined));
  }
}

/** The account gate of one JobRun, shared through Redis and keyed by the run's endpoint. */
function laneGate(o: QueuePlacementOptions, { client, rates }: JobPlacementContext): RedisRateGate {
  // The command line checked that Redis answers before the job started.
  const redis = new Redis(o.redisUrl, { ...redisOptions(o.redisUrl), lazyConnect: false });
  redis.on('error', () => undefined);
  o.counter?.attach(redis);
  const gate = new RedisRateGate({
    ...(rates === undefined || rates === 'off' ? {} : rates),
    redis,
    redisUrl: o.redisUrl,
    account: client.endpoint,
    ...(o.prefix === undefined ? {} : { prefix: o.prefix }),
  });
  const close = gate.close.bind(gate);
  gate.close = async () => {
    await close();
    redis.disconnect();
  };
  return gate;
}

export function queuePlacement(o: QueuePlacementOptions): QueuePlacement {
  const runId = o.runId === undefined ? newRunId() : validateRunId(o.runId);
  const adopt = o.adopt === true && o.runId !== undefined;
  const base = {
    redisUrl: o.redisUrl,
    ...(o.queue === undefined ? {} : { queue: o.queue }),
    ...(o.prefix === undefined ? {} : { prefix: o.prefix }),
    ...(o.counter === undefined ? {} : { counter: o.counter }),
  };
  let lanes = 0;
  const perAccount = new Map<string, number>();
  let root: Promise<QueueBatchRunner> | undefined;
  let finished: Promise<void> | undefined;

  const openLane = (lane: string, rates: QueuedRates | 'off'): Promise<QueueBatchRunner> => {
    const common = { ...base, rates, lane };
    if (root !== undefined) return root.then(() => QueueBatchRunner.open({ ...common, runId }));
    root = QueueBatchRunner.open({
      ...common,
      ...(adopt ? { runId } : { run: { kind: o.kind ?? 'job', detail: o.detail ?? null }, newRunId: runId }),
    }).then((r) => {
      o.onRun?.(r.runId);
      if (o.onCancel !== undefined) r.onCancel(o.onCancel);
      return r;
    });
    return root;
  };

  const place = (context: JobPlacementContext): Placement => {
    if (finished !== undefined) throw new Error(`queue placement of run ${runId} is finished`);
    const first = lanes++ === 0;
    const account = gateAccountKey(context.client.endpoint);
    const rank = perAccount.get(account) ?? 0;
    perAccount.set(account, rank + 1);
    const lane = `${account}#${rank}`;
    const rates = queuedRates(context.rates);
    const gate = rates === 'off' ? undefined : laneGate(o, context);
    const runner: BatchRunnerFactory = () => {
      const ready = openLane(lane, rates);
      return new LaneRunner(ready, adopt, async (r) => {
        // The first lane keeps the run (heartbeat, cancel) until finish(); the others leave it now.
        await r?.finish('running').catch(() => undefined);
        if (r !== undefined && !first) await r.close();
        await gate?.close();
      });
    };
    const maxBatchesInFlight = o.maxBatchesInFlight ?? DEFAULT_BATCHES_IN_FLIGHT;
    return gate === undefined ? { runner, maxBatchesInFlight } : { runner, gate, maxBatchesInFlight };
  };

  const finish = async (state: 'done' | 'failed' = 'done'): Promise<void> => {
    finished ??= (async () => {
      const r = await root?.catch(() => undefined);
      if (r !== undefined) {
        await r.finish(state).catch(() => undefined);
        await r.close();
      } else if (o.runId !== undefined) await endRecord(o, runId, state);
    })();
    return finished;
  };

  return Object.defineProperties(place, {
    runId: { value: runId, enumerable: true },
    lanes: { get: () => lanes, enumerable: true },
    finish: { value: finish, enumerable: true },
  }) as QueuePlacement;
}

/** A record made before the job ran (a detached submission) whose job queued nothing: it ends as the job did. */
async function endRecord(o: QueuePlacementOptions, runId: string, state: 'done' | 'failed'): Promise<void> {
  const redis = await connectRedis(o.redisUrl).catch(() => undefined);
  if (redis === undefined) return;
  try {
    const store = new RunStore(redis, new QueueNames(o.queue ?? DEFAULT_QUEUE_NAME, o.prefix ?? DEFAULT_QUEUE_PREFIX));
    if ((await store.state(runId)) === 'running') await store.setState(runId, state);
  } finally {
    redis.disconnect();
  }
}
