/**
 * The waves of a rollout as its write phase sees them: `run` writes wave after wave with the
 * gates between (RolloutWavesRun), a dry run only counts the waves' sizes, and after a failed
 * gate `afterGateFailure` undoes the rollout (onGateFailure: rollback) on the same JobRun: every
 * written thing's changed keys go back to their previous values from the undo records in the
 * journal and the intents, version-guarded; keys changed since are kept and listed. The undo is
 * journalled in `<journal>.rollback` (so `shadowfleet rollback --journal` continues it) and
 * each undone thing gets a line in the outcome file.
 */
import type { JobRun } from '../../../engine/job-run.js';
import { Journal, readJournal } from '../../../engine/journal.js';
import { UNDO_DATA_KEY, WROTE_DATA_KEY, type RollbackTaskConfig } from '../../../engine/wave-task-types.js';
import { itemKey, type ItemResult, type RolloutTaskConfig, type TargetItem } from '../../../engine/task-types.js';
import type { UndoRecord } from '../../../shadow/before-image.js';
import { parseJson, stringifyJson } from '../../../shadow/json-text.js';
import { collectUndoRecords, rollbackPass, type KeptKeyReport } from '../../rollback/rollback.js';
import type { RolloutOutcomeFile } from '../rollout-outcome-file.js';
import type { GateDecision } from './wave-gate.js';
import { WavePlanner } from './wave-planner.js';
import { RolloutWavesRun, type RolloutWaveReport, type WaveGateFailure } from './rollout-waves.js';
import { waveLabel, type RolloutWaves } from './wave-spec.js';

/** What the automatic rollback after a failed gate did. */
export interface RolloutRollbackSummary {
  /** Things the rollout wrote (each undone once). */
  things: number;
  rolledBack: number;
  unchanged: number;
  keptThings: number;
  keptKeyCount: number;
  /** At most 1000 listed. */
  keptKeys: KeptKeyReport[];
  failed: number;
  /** The rollback's journal (`shadowfleet rollback --journal <rollout journal>` continues it). */
  journal: string;
}

export interface WavePhaseHooks {
  pollMs: number;
  signal?: AbortSignal | undefined;
  /** A gate decided (each round): progress. */
  onGate?: (wave: number, d: GateDecision) => void;
  clock?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** The journal of an earlier run this one resumes: its writes join their waves' gates. */
  resumeJournal?: string | undefined;
}

const MAX_KEPT_LISTED = 1000;

/** The writes recorded in a journal (written or rebased, with an undo record), by target key, each with the update it got. */
async function resumedWrites(journal: string): Promise<Map<string, TargetItem>> {
  const out = new Map<string, TargetItem>();
  await readJournal(journal, (r) => {
    const undoJson = (r.detail as { undoJson?: unknown } | undefined)?.undoJson;
    if ((r.outcome !== 'written' && r.outcome !== 'rebased') || typeof undoJson !== 'string') return;
    const item: TargetItem = {
      thingName: r.thingName,
      data: { [WROTE_DATA_KEY]: stringifyJson((parseJson(undoJson) as UndoRecord).wrote) },
    };
    if (r.shadowName !== undefined) item.shadowName = r.shadowName;
    out.set(itemKey(r), item);
  });
  return out;
}

export class WavePhase {
  readonly waves: RolloutWaves;
  readonly planner: WavePlanner;
  readonly #hooks: WavePhaseHooks;
  #run: RolloutWavesRun | undefined;
  #sizes: number[] | undefined;

  private constructor(waves: RolloutWaves, planner: WavePlanner, hooks: WavePhaseHooks) {
    this.waves = waves;
    this.planner = planner;
    this.#hooks = hooks;
  }

  /** Reads the waves' name files (before any write: a missing file stops the rollout first). */
  static async open(waves: RolloutWaves, hooks: WavePhaseHooks): Promise<WavePhase> {
    return new WavePhase(waves, await WavePlanner.load(waves.waves), hooks);
  }

  /** For RolloutWrite's onCommit. */
  readonly committed = (r: ItemResult): void => this.#run?.committed(r);

  /** Writes the waves in order with their gates; a dry run is one pass that counts the waves' sizes. */
  async write(
    run: JobRun,
    source: AsyncIterable<TargetItem>,
    dataByKey: Map<string, Record<string, string>>,
    config: RolloutTaskConfig,
    write: (items: AsyncIterable<TargetItem>, config?: RolloutTaskConfig) => Promise<void>,
  ): Promise<void> {
    if (config.dryRun === true) {
      const counter = this.planner.counter();
      const planner = this.planner;
      await write(
        (async function* (): AsyncGenerator<TargetItem> {
          for await (const item of source) {
            counter.observe(item, planner);
            yield item;
          }
        })(),
      );
      this.#sizes = counter.sizes(planner);
      return;
    }
    const resumed =
      this.#hooks.resumeJournal === undefined ? undefined : await resumedWrites(this.#hooks.resumeJournal);
    this.#run = new RolloutWavesRun({
      ...(resumed === undefined ? {} : { resumed }),
      run,
      planner: this.planner,
      waves: this.waves,
      source,
      dataByKey,
      config,
      write: (items, cfg) => write(items, cfg),
      pollMs: this.#hooks.pollMs,
      signal: this.#hooks.signal,
      ...(this.#hooks.clock === undefined ? {} : { clock: this.#hooks.clock }),
      ...(this.#hooks.sleep === undefined ? {} : { sleep: this.#hooks.sleep }),
      ...(this.#hooks.onGate === undefined ? {} : { onGate: this.#hooks.onGate }),
    });
    await this.#run.run();
  }

  get gateFailure(): WaveGateFailure | undefined {
    return this.#run?.gateFailure;
  }

  /** Per wave: its size (dry run) or what it wrote and its gate's verdict. */
  get reports(): RolloutWaveReport[] {
    if (this.#run !== undefined) return this.#run.reports;
    return this.waves.waves.map((w, index) => ({
      index,
      label: waveLabel(w),
      targets: this.#sizes?.[index] ?? 0,
      written: 0,
    }));
  }

  /** The reason the rollout stops for a failed gate (its figures). */
  static reason(f: WaveGateFailure): string {
    return `the gate of wave ${f.wave + 1} (${f.label}) failed: ${f.decision.reason}`;
  }

  /**
   * After a failed gate with onGateFailure: rollback: undoes every write of the rollout (this
   * run's and, after a resume, the earlier runs') on the same JobRun.
   */
  async rollback(
    run: JobRun,
    journalPath: string,
    outcomes: RolloutOutcomeFile,
    config: Pick<RolloutTaskConfig, 'shadowName' | 'maxAttempts'>,
  ): Promise<RolloutRollbackSummary> {
    const { header, undo } = await collectUndoRecords(journalPath);
    const journal = await Journal.open(`${journalPath}.rollback`, {
      kind: 'rollback',
      spec: { kind: 'rollback', of: header!.specHash, startedAt: header!.startedAt },
      resume: true,
    });
    const summary: RolloutRollbackSummary = {
      things: undo.size,
      rolledBack: 0,
      unchanged: 0,
      keptThings: 0,
      keptKeyCount: 0,
      keptKeys: [],
      failed: 0,
      journal: journal.path,
    };
    const task: RollbackTaskConfig = {};
    if (config.shadowName !== undefined) task.shadowName = config.shadowName;
    if (config.maxAttempts !== undefined) task.maxAttempts = config.maxAttempts;
    function* items(): Generator<TargetItem> {
      for (const u of undo.values()) yield { ...u.item, data: { [UNDO_DATA_KEY]: u.undo } };
    }
    try {
      await rollbackPass(run, items(), task, (r) => {
        journal.append(r);
        outcomes.write(r);
        if (r.outcome === 'rolled-back') summary.rolledBack += 1;
        else if (r.outcome === 'unchanged') summary.unchanged += 1;
        else if (r.outcome === 'failed') summary.failed += 1;
        const kept = (r.detail as { kept?: KeptKeyReport[] } | undefined)?.kept ?? [];
        if (kept.length > 0) summary.keptThings += 1;
        summary.keptKeyCount += kept.length;
        for (const k of kept) {
          if (summary.keptKeys.length >= MAX_KEPT_LISTED) break;
          const line: KeptKeyReport = { ...k, thing: r.thingName };
          if (r.shadowName !== undefined) line.shadow = r.shadowName;
          summary.keptKeys.push(line);
        }
      });
    } finally {
      await journal.close();
    }
    return summary;
  }
}
