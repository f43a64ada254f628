import { describe, expect, it } from 'vitest';
import type { BatchRunner, BatchRunnerContext, BatchTask } from '../../src/engine/batch-runner.js';
import { JobRun, jobClientConfig, runJob } from '../../src/engine/job-run.js';
import type { ItemResult, TargetItem } from '../../src/engine/task-types.js';

/** A runner that answers every batch on this thread: odd-numbered things are written, the others unchanged. */
class InlineRunner implements BatchRunner {
  readonly tasks: BatchTask[] = [];
  closed = false;
  constructor(
    readonly context: BatchRunnerContext,
    readonly hold?: Promise<void>,
  ) {}
  async run<C>(task: BatchTask<C>): Promise<ItemResult[]> {
    this.tasks.push(task as BatchTask);
    if (this.hold !== undefined) await this.hold;
    return task.items.map((it) => ({
      thingName: it.thingName,
      outcome: Number(it.thingName.split('-')[1]) % 2 === 1 ? 'written' : 'unchanged',
      attempts: 1,
      requests: 2,
      throttles: 0,
      latencyMs: 1,
      bytesSent: 5,
    }));
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

const things = (n: number): TargetItem[] => Array.from({ length: n }, (_, i) => ({ thingName: `t-${i}` }));
const client = jobClientConfig({ endpoint: 'http://127.0.0.1:9', region: 'eu-west-1' });

describe('runJob', () => {
  it('reads the targets, hands batches to the runner the engine was given, tallies and reports', async () => {
    let runner: InlineRunner | undefined;
    const seen: string[] = [];
    const result = await runJob(
      { client, rates: 'off', batchSize: 4, workers: 1, runner: (ctx) => (runner = new InlineRunner(ctx)) },
      {
        kind: 'rollout',
        config: { dryRun: false },
        targets: () => things(10),
        onResult: (r) => void seen.push(r.thingName),
        report: (run, stats) => ({ tally: run.tally.byOutcome, written: run.tally.count('written'), done: stats.done }),
      },
    );
    expect(result).toEqual({ tally: { unchanged: 5, written: 5 }, written: 5, done: 10 });
    expect(seen).toHaveLength(10);
    expect(runner!.tasks.map((t) => t.items.length)).toEqual([4, 4, 2]);
    expect(runner!.tasks[0]).toMatchObject({
      kind: 'rollout',
      config: { dryRun: false },
      client: { endpoint: 'http://127.0.0.1:9', region: 'eu-west-1' },
    });
    // Plain data only: a batch survives a structured clone (it may cross a thread or a host).
    expect(structuredClone(runner!.tasks[0])).toEqual(runner!.tasks[0]);
    expect(runner!.closed).toBe(true);
  });

  it('closes the run when the job fails', async () => {
    let runner: InlineRunner | undefined;
    const failing = runJob(
      { client, rates: 'off', workers: 1, runner: (ctx) => (runner = new InlineRunner(ctx)) },
      {
        kind: 'rollout',
        config: {},
        targets: () => things(3),
        onResult: () => undefined,
        report: () => {
          throw new Error('report failed');
        },
      },
    );
    await expect(failing).rejects.toThrow('report failed');
    expect(runner!.closed).toBe(true);
  });
});

describe('JobRun', () => {
  it('stops reading targets on the outer signal and says it was interrupted, not aborted', async () => {
    const outer = new AbortController();
    let release!: () => void;
    const hold = new Promise<void>((r) => (release = r));
    const run = new JobRun({
      client,
      rates: 'off',
      workers: 1,
      batchSize: 1,
      maxBatchesInFlight: 1,
      signal: outer.signal,
      runner: (ctx) => new InlineRunner(ctx, hold),
    });
    try {
      const pass = run.run('rollout', {}, things(100), () => undefined);
      outer.abort();
      release();
      const stats = await pass;
      expect(run.interrupted).toBe(true);
      expect(run.aborted).toBeUndefined();
      expect(stats.done).toBeLessThan(100);
    } finally {
      await run.close();
    }
  });

  it('keeps the first abort reason and stops the run with it', async () => {
    const run = new JobRun({
      client,
      rates: 'off',
      workers: 1,
      batchSize: 1,
      maxBatchesInFlight: 1,
      runner: (ctx) => new InlineRunner(ctx),
    });
    try {
      const stats = await run.run('rollout', {}, things(50), (r) => {
        if (r.thingName === 't-3') run.abort('enough');
        if (r.thingName > 't-3') run.abort('a later reason');
      });
      expect(run.aborted).toEqual({ reason: 'enough' });
      expect(stats.aborted).toBe(true);
      expect(stats.done).toBeLessThan(50);
    } finally {
      await run.close();
    }
  });

  it('stops with a run timeout reason when the run takes longer than runTimeoutMs', async () => {
    let release!: () => void;
    const hold = new Promise<void>((r) => (release = r));
    const run = new JobRun({
      client,
      rates: 'off',
      workers: 1,
      batchSize: 1,
      maxBatchesInFlight: 1,
      runTimeoutMs: 1,
      runner: (ctx) => new InlineRunner(ctx, hold),
    });
    try {
      const pass = run.run('rollout', {}, things(10), () => undefined);
      // Wait for the state, not for a time: the timeout stops the run while the first batch is held.
      while (!run.stopped) await new Promise((r) => setTimeout(r, 5));
      release();
      await pass;
      expect(run.aborted).toEqual({ reason: 'run timeout: 1 ms passed' });
      expect(run.stopped).toBe(true);
    } finally {
      await run.close();
    }
  });

  it('reports progress with the run, and a throwing progress callback does not break it', async () => {
    const events: Array<[number, boolean]> = [];
    const run = new JobRun({
      client,
      rates: 'off',
      workers: 1,
      runner: (ctx) => new InlineRunner(ctx),
      onProgress: (r, final) => {
        events.push([r.tally.done, final]);
        throw new Error('callback bug');
      },
    });
    try {
      await run.run('rollout', {}, things(3), () => undefined);
      run.progress(true);
      expect(events).toEqual([[3, true]]);
    } finally {
      await run.close();
    }
  });
});
