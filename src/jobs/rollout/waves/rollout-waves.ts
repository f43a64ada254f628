/**
 * A rollout in waves: the write phase runs once per wave on the same JobRun (pool, gates and
 * journal stay up), and after each gated wave its gate re-reads the wave's written things
 * (within the rate limits) until the converged and healthy shares reach the thresholds or
 * `within` runs out. A failed gate stops the rollout; with `onGateFailure: rollback` every
 * thing the rollout wrote is then undone from the undo records in its journal (and intents).
 *
 * Targets stream once, during the first wave: every target read is spooled to a temporary
 * JSON-lines file, and the later waves read the spool (stdin and snapshots included), so
 * memory stays flat. A wave keeps its written things (with the update each got) for its gate.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { JobRun } from '../../../engine/job-run.js';
import { itemKey, type ItemResult, type RolloutTaskConfig, type TargetItem } from '../../../engine/task-types.js';
import { WROTE_DATA_KEY, type WaveCheckTaskConfig } from '../../../engine/wave-task-types.js';
import type { UndoRecord } from '../../../shadow/before-image.js';
import { parseJson, stringifyJson } from '../../../shadow/json-text.js';
import { waitForGate, WaveGate, type GateDecision, type GatePoint, type ThingObservation } from './wave-gate.js';
import type { WavePlanner } from './wave-planner.js';
import { waveLabel, type GateFailureAction, type RolloutWaves } from './wave-spec.js';

/** What the rollout reports of one wave. */
export interface RolloutWaveReport {
  index: number;
  label: string;
  /** Targets the wave finished: written, unchanged or failed (where-waves: those whose shadow met the condition). */
  targets: number;
  /** Things the wave wrote (written or rebased). */
  written: number;
  gate?: {
    converged?: number;
    healthy?: number;
    withinMs: number;
    decision: GateDecision;
    /** Converged, healthy and unhealthy counts after each round of re-reads. */
    series: GatePoint[];
  };
  /** Set when the wave did not run (an earlier gate failed, or the run stopped). */
  skipped?: boolean;
}

export interface WaveGateFailure {
  wave: number;
  label: string;
  action: GateFailureAction;
  decision: GateDecision;
}

export interface RolloutWavesDeps {
  run: JobRun;
  planner: WavePlanner;
  waves: RolloutWaves;
  /** The targets, deduplicated and without things finished earlier; read once. */
  source: AsyncIterable<TargetItem>;
  /** Extra columns of targets in flight (shared with the write phase's retry passes). */
  dataByKey: Map<string, Record<string, string>>;
  /** Runs the write phase (first pass and retries) over one wave's items with its task config. */
  write: (items: AsyncIterable<TargetItem>, config: RolloutTaskConfig) => Promise<void>;
  config: RolloutTaskConfig;
  /** Pause between gate rounds, ms. */
  pollMs: number;
  signal?: AbortSignal | undefined;
  clock?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  onGate?: (wave: number, d: GateDecision) => void;
  /**
   * A resumed rollout: the things an earlier run wrote (with the update each got), so the gate
   * of their wave watches them too (a run killed while a gate waited must not skip that gate).
   */
  resumed?: ReadonlyMap<string, TargetItem>;
}

/** Drives the waves; `committed` is called by the write phase for every result it keeps. */
export class RolloutWavesRun {
  readonly reports: RolloutWaveReport[];
  gateFailure: WaveGateFailure | undefined;
  readonly #d: RolloutWavesDeps;
  #current: TargetItem[] = [];
  /** Results committed in the current wave (written, unchanged, failed...). */
  #taken = 0;
  #where = false;
  /** Things written by a where-wave: later waves leave them out. */
  readonly #matched = new Set<string>();

  constructor(deps: RolloutWavesDeps) {
    this.#d = deps;
    this.reports = deps.waves.waves.map((w, index) => ({ index, label: waveLabel(w), targets: 0, written: 0 }));
  }

  /** Called for each result the write phase commits (journal, report): a written thing joins the wave's gate. */
  committed(r: ItemResult): void {
    this.#taken += 1;
    if (this.#where) this.#matched.add(itemKey(r));
    // a write that went out carries its undo record (a `rebased` without one wrote nothing)
    const undoJson = (r.detail as { undoJson?: unknown } | undefined)?.undoJson;
    if ((r.outcome !== 'written' && r.outcome !== 'rebased') || typeof undoJson !== 'string') return;
    const wrote = (parseJson(undoJson) as UndoRecord).wrote;
    const item: TargetItem = { thingName: r.thingName, data: { [WROTE_DATA_KEY]: stringifyJson(wrote) } };
    if (r.shadowName !== undefined) item.shadowName = r.shadowName;
    this.#current.push(item);
  }

  /** Runs every wave in order until one's gate fails or the run stops. */
  async run(): Promise<void> {
    const spoolPath = join(
      tmpdir(),
      `shadowfleet-waves-${process.pid}-${Date.now()}-${randomBytes(4).toString('hex')}.ndjson`,
    );
    const spool = createWriteStream(spoolPath, { flags: 'w' });
    await once(spool, 'open');
    try {
      for (let i = 0; i < this.#d.waves.waves.length; i++) {
        const items = i === 0 ? this.#spooling(this.#d.source, spool) : readSpool(spoolPath);
        if (i === 1) await new Promise<void>((resolve) => spool.end(resolve));
        await this.#wave(i, items);
        if (this.gateFailure !== undefined || this.#d.run.stopped || this.#d.run.interrupted) {
          for (let j = i + 1; j < this.reports.length; j++) this.reports[j]!.skipped = true;
          break;
        }
      }
    } finally {
      if (!spool.closed) await new Promise<void>((resolve) => spool.end(resolve));
      await rm(spoolPath, { force: true }).catch(() => {});
    }
  }

  /** Yields the stream as it is read, writing every item to the spool (backpressure honoured). */
  async *#spooling(source: AsyncIterable<TargetItem>, spool: WriteStream): AsyncGenerator<TargetItem> {
    for await (const item of source) {
      if (!spool.write(`${JSON.stringify(item)}\n`)) await once(spool, 'drain');
      yield item;
    }
  }

  async #wave(i: number, all: AsyncIterable<TargetItem>): Promise<void> {
    const d = this.#d;
    const wave = d.waves.waves[i]!;
    const report = this.reports[i]!;
    this.#current = [];
    this.#taken = 0;
    this.#where = wave.where !== undefined;
    const config: RolloutTaskConfig = wave.where === undefined ? d.config : { ...d.config, waveWhere: wave.where };
    await d.write(this.#select(i, all), config);
    const written = this.#current;
    // things an earlier run wrote in this wave (where-waves cannot tell: their condition was on the shadow then)
    if (d.resumed !== undefined && wave.where === undefined) {
      for (const item of d.resumed.values()) if (d.planner.staticWave(item.thingName) === i) written.push(item);
    }
    this.#current = [];
    report.targets = this.#taken;
    report.written = written.length;
    this.#where = false;
    if (wave.gate === undefined || d.run.stopped || d.run.interrupted || d.config.dryRun === true) return;
    const gate = new WaveGate(wave.gate, written.length, d.clock);
    const check: WaveCheckTaskConfig = {};
    if (d.config.shadowName !== undefined) check.shadowName = d.config.shadowName;
    if (d.waves.health !== undefined) check.health = d.waves.health;
    const decision = await waitForGate({
      gate,
      things: written,
      key: itemKey,
      pollMs: d.pollMs,
      signal: d.signal,
      ...(d.clock === undefined ? {} : { clock: d.clock }),
      ...(d.sleep === undefined ? {} : { sleep: d.sleep }),
      check: async (items) => {
        const seen: Array<{ key: string; observation: ThingObservation }> = [];
        await d.run.run<WaveCheckTaskConfig>('wave-check', check, items, (r) => {
          const detail = r.detail as { healthy?: boolean } | undefined;
          const observation: ThingObservation = { converged: r.outcome === 'converged' };
          if (detail?.healthy !== undefined) observation.healthy = detail.healthy;
          seen.push({ key: itemKey(r), observation });
        });
        return seen;
      },
      onDecision: (dec) => d.onGate?.(i, dec),
    });
    report.gate = { withinMs: wave.gate.withinMs, decision, series: gate.series };
    if (wave.gate.converged !== undefined) report.gate.converged = wave.gate.converged;
    if (wave.gate.healthy !== undefined) report.gate.healthy = wave.gate.healthy;
    if (decision.verdict === 'fail')
      this.gateFailure = { wave: i, label: report.label, action: d.waves.onGateFailure, decision };
  }

  /** The wave's items of the stream; their extra columns are kept for retry passes only while in the wave. */
  async *#select(i: number, all: AsyncIterable<TargetItem>): AsyncGenerator<TargetItem> {
    const d = this.#d;
    let hasMembers = false;
    if (d.resumed !== undefined)
      for (const t of d.resumed.values()) if (d.planner.staticWave(t.thingName) === i) hasMembers = true;
    for await (const { item } of d.planner.select(this.#pending(all, i), i, { hasMembers })) {
      if (item.data !== undefined) d.dataByKey.set(itemKey(item), item.data);
      yield item;
    }
  }

  /** The stream without the things a where-wave already wrote; extra columns of others dropped until their wave. */
  async *#pending(all: AsyncIterable<TargetItem>, i: number): AsyncGenerator<TargetItem> {
    const d = this.#d;
    for await (const item of all) {
      const key = itemKey(item);
      if (this.#matched.has(key)) continue;
      if (item.data !== undefined && d.planner.candidate(item.thingName, i) === undefined) d.dataByKey.delete(key);
      yield item;
    }
  }
}

/** Reads the spool back, one item a line. */
async function* readSpool(path: string): AsyncGenerator<TargetItem> {
  const rl = createInterface({
    input: createReadStream(path, { encoding: 'utf8' }),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  for await (const line of rl) if (line !== '') yield JSON.parse(line) as TargetItem;
}
