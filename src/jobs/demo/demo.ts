/**
 * `runDemo`: the whole job on the embedded emulator, in about a minute. It starts the emulator
 * in its own process with AWS-like quotas and simulated devices, seeds a fleet and its registry
 * (a thing group tree fleet > region > site), rolls a firmware change out to the thing group
 * `fleet` and its subgroups (with a ramp, version-guarded minimal updates), waits for the devices to
 * report the new desired state, takes a snapshot of every shadow and writes the report page.
 */
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { InvalidArgumentError } from '../../errors.js';
import { checkPositive, requirePositive } from '../../options/check-positive.js';
import { describeSelection } from '../../engine/target-selection.js';
import type { JsonObject } from '../../shadow/index.js';
import type { ReportRow } from '../../report/report-model.js';
import { writeRolloutReportPage } from '../../report/write-rollout-report-page.js';
import { startEmulatorProcess, type EmulatorProcess } from '../../emulator/emulator-process.js';
import { runRollout, type RolloutProgress, type RolloutResult } from '../rollout/rollout.js';
import { runSnapshot, type SnapshotOptions, type SnapshotResult } from '../snapshot/snapshot.js';
import { AWS_QUOTA_DEFAULTS } from '../../shadow/aws-quota-defaults.js';

export interface DemoOptions {
  /** Things seeded and rolled out to. Default 10,000. */
  things?: number;
  /** Where the snapshot, the report page, the journal and the outcome file go. Default ./shadowfleet-out. */
  outDir?: string;
  /** Account quota of the emulator (and of the rollout), requests/s per operation. Default 4,000 (AWS, large regions). */
  rate?: number;
  /** How long a simulated device takes to report the new desired state, ms. Default 4,000. */
  deviceDelayMs?: number;
  /** Share of simulated devices that never answer (offline). Default 0.005. */
  silentShare?: number;
  /** How long to wait for the devices to converge, ms (the offline share never does, so the wait lasts this long). Default 20,000. */
  waitConvergedMs?: number;
  /** Worker threads. Default: the core count. */
  workers?: number;
  signal?: AbortSignal;
  onProgress?: (p: DemoProgress) => void;
}

export type DemoStep = 'emulator' | 'rollout' | 'converge' | 'snapshot' | 'report';

export interface DemoProgress {
  step: DemoStep;
  /** Step-specific count (things written, things converged, things read). */
  done: number;
  /** Snapshot: shadows (records) written so far. */
  records?: number;
  total?: number;
  /** Things (or records) per second. */
  perSecond?: number;
  failed?: number;
  throttles?: number;
  rate?: number;
  etaSeconds?: number;
  message?: string;
  final?: boolean;
}

export interface DemoResult {
  ok: boolean;
  interrupted: boolean;
  things: number;
  /** How the rollout chose its things (`thing group fleet (recursive)`). */
  targets: string;
  outDir: string;
  emulatorUrl: string;
  /** The change rolled out. */
  desired: Record<string, unknown>;
  rollout: RolloutResult;
  snapshot?: {
    dir: string;
    records: number;
    things: number;
    failed: number;
    durationMs: number;
    result: SnapshotResult;
  };
  reportPage: string;
  outcomesFile: string;
  journal: string;
  durationMs: number;
  steps: Array<{ step: DemoStep; ms: number }>;
}

export const DEFAULT_DEMO_OPTIONS = Object.freeze({
  things: 10_000,
  outDir: './shadowfleet-out',
  rate: AWS_QUOTA_DEFAULTS.accountRps,
  deviceDelayMs: 4000,
  silentShare: 0.005,
  waitConvergedMs: 20_000,
  desired: Object.freeze({ firmware: '1.5.0', telemetry: Object.freeze({ sampleRateHz: 5 }) }),
  ramp: Object.freeze({ baseRate: 500, factor: 2, everySucceeded: 1000 }),
  /** The canary wave, and the share of it that must report the change and be healthy (the offline share never does). */
  canary: Object.freeze({ share: 0.1, pass: 0.75 }),
});

function stamp(d: Date): string {
  return d
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')
    .replace('T', '-');
}

/** Validates the demo's options once; messages name the option. */
function resolveDemoOptions(options: DemoOptions): {
  things: number;
  rate: number;
  silentShare: number;
  deviceDelayMs: number;
  waitConvergedMs: number;
} {
  const d = DEFAULT_DEMO_OPTIONS;
  const things = options.things ?? d.things;
  if (!Number.isInteger(things) || things < 1 || things > 1_000_000)
    throw new InvalidArgumentError(`things must be an integer from 1 to 1,000,000, got ${String(options.things)}`);
  const rate = options.rate ?? d.rate;
  requirePositive('rate', rate, { integer: false });
  const silentShare = options.silentShare ?? d.silentShare;
  if (!(silentShare >= 0 && silentShare <= 1))
    throw new InvalidArgumentError(`silentShare must be from 0 to 1, got ${String(options.silentShare)}`);
  const deviceDelayMs = options.deviceDelayMs ?? d.deviceDelayMs;
  if (!(deviceDelayMs >= 0))
    throw new InvalidArgumentError(`deviceDelayMs must be >= 0, got ${String(options.deviceDelayMs)}`);
  const waitConvergedMs = options.waitConvergedMs ?? d.waitConvergedMs;
  if (!(waitConvergedMs >= 0) || !Number.isFinite(waitConvergedMs))
    throw new InvalidArgumentError(
      `waitConvergedMs must be a number of ms >= 0, got ${String(options.waitConvergedMs)}`,
    );
  checkPositive('workers', options.workers);
  return { things, rate, silentShare, deviceDelayMs, waitConvergedMs };
}

type DemoSettings = ReturnType<typeof resolveDemoOptions>;

/** How long each step took: a step lasts from the end of the one before. */
class StepClock {
  readonly steps: DemoResult['steps'] = [];
  #t = Date.now();

  done(step: DemoStep): void {
    const now = Date.now();
    this.steps.push({ step, ms: now - this.#t });
    this.#t = now;
  }
}

export async function runDemo(options: DemoOptions = {}): Promise<DemoResult> {
  const d = DEFAULT_DEMO_OPTIONS;
  const settings = resolveDemoOptions(options);
  const { things, rate, silentShare, deviceDelayMs } = settings;
  const outDir = resolve(options.outDir ?? d.outDir);
  const started = new Date();
  const progress = options.onProgress ?? (() => {});
  const clock = new StepClock();

  await mkdir(outDir, { recursive: true });
  progress({
    step: 'emulator',
    done: 0,
    total: things,
    message: `starting the emulator with AWS quotas (${rate}/s per operation, 20/s per thing) and ${things.toLocaleString('en-US')} simulated devices`,
  });
  const emu: EmulatorProcess = await startEmulatorProcess({
    quotas: 'aws',
    accountRps: rate,
    simulateDevices: { delayMs: deviceDelayMs, silentShare, reportHealth: true },
    seedThings: things,
    // The registry too: every seeded thing in a site group of the tree fleet > region > site.
    seedRegistry: true,
  });
  try {
    clock.done('emulator');
    progress({ step: 'emulator', done: things, total: things, final: true, message: `emulator ready at ${emu.url}` });

    const journal = join(outDir, 'rollout.journal');
    const outcomesFile = join(outDir, 'rollout-outcomes.ndjson');
    const desired = structuredClone(d.desired) as Record<string, unknown>;
    // The targets as a fleet is organised: the thing group `fleet` and its subgroups, listed
    // page by page from the control plane (the emulator serves it on the same URL).
    const targets = { thingGroup: 'fleet', recursive: true } as const;
    const rollout = await demoRollout(
      { endpoint: emu.url, targets, desired, journal, outcomesFile },
      settings,
      options,
      clock,
    );

    let snapshot: DemoResult['snapshot'];
    const interrupted = rollout.interrupted || options.signal?.aborted === true;
    if (!interrupted) {
      snapshot = await demoSnapshot(emu.url, join(outDir, `snapshot-${stamp(new Date())}`), things, options);
      clock.done('snapshot');
    }

    const reportPage = join(outDir, 'report.html');
    await writeDemoReport(reportPage, rollout, {
      things,
      rate,
      deviceDelayMs,
      silentShare,
      desired,
      outcomesFile,
      journal,
      snapshot,
      emulatorUrl: emu.url,
      started,
    });
    clock.done('report');
    return {
      ok: rollout.ok && !interrupted,
      interrupted,
      things,
      targets: describeSelection(targets),
      outDir,
      emulatorUrl: emu.url,
      desired,
      rollout,
      ...(snapshot === undefined ? {} : { snapshot }),
      reportPage,
      outcomesFile,
      journal,
      durationMs: Date.now() - started.getTime(),
      steps: clock.steps,
    };
  } finally {
    await emu.close();
  }
}

/**
 * The rollout: a firmware and telemetry change, ramped like an IoT Jobs exponential rollout, in a
 * canary wave and then the rest, followed by the wait for the devices to converge. Its progress is
 * told as the demo's rollout and converge steps, and the clock marks where each ends.
 */
async function demoRollout(
  run: {
    endpoint: string;
    targets: { thingGroup: string; recursive: true };
    desired: Record<string, unknown>;
    journal: string;
    outcomesFile: string;
  },
  { things, rate, deviceDelayMs, waitConvergedMs }: DemoSettings,
  options: DemoOptions,
  clock: StepClock,
): Promise<RolloutResult> {
  const d = DEFAULT_DEMO_OPTIONS;
  const progress = options.onProgress ?? (() => {});
  let phase: RolloutProgress['phase'] = 'write';
  const rollout = await runRollout({
    endpoint: run.endpoint,
    targets: run.targets,
    desired: run.desired as JsonObject,
    rate: { perSecond: rate },
    ramp: { ...d.ramp, maxRate: rate },
    // A canary wave first: the rest goes out once most canaries report the change and health "ok".
    waves: {
      health: 'reported.health == "ok"',
      onGateFailure: 'rollback',
      waves: [
        {
          share: d.canary.share,
          gate: {
            converged: d.canary.pass,
            healthy: d.canary.pass,
            withinMs: Math.max(waitConvergedMs, 2 * deviceDelayMs),
          },
        },
        { share: 1 },
      ],
    },
    yes: true,
    journal: run.journal,
    report: run.outcomesFile,
    waitConvergedMs,
    ...(options.workers === undefined ? {} : { workers: options.workers }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    onProgress: (p) => {
      // The write phase ends at the first convergence event (later events may still name it).
      if (p.phase === 'converge' && phase === 'write') {
        clock.done('rollout');
        phase = 'converge';
      } else if (p.phase !== phase) {
        return;
      }
      progress(demoRolloutProgress(p, things));
    },
  });
  clock.done(phase === 'write' ? 'rollout' : 'converge');
  return rollout;
}

/** A rollout progress event as the demo's rollout or converge step. */
function demoRolloutProgress(p: RolloutProgress, things: number): DemoProgress {
  const e: DemoProgress = {
    step: p.phase === 'converge' ? 'converge' : 'rollout',
    done: p.done,
    failed: p.failed,
    throttles: p.throttles,
  };
  // While converging, `done` counts converged devices: there is no pace to show.
  if (p.phase !== 'converge') e.perSecond = p.thingsPerSecond;
  // A group's size is not counted ahead; the demo seeded it, so it knows it.
  const total = p.total ?? (p.phase === 'converge' ? undefined : things);
  if (total !== undefined) e.total = total;
  if (p.rate !== undefined) e.rate = p.rate;
  if (p.etaSeconds !== undefined) e.etaSeconds = p.etaSeconds;
  if (p.final) e.final = true;
  return e;
}

/** The snapshot of every shadow of the fleet (classic and named) to `dir`, through the same engine. */
async function demoSnapshot(
  endpoint: string,
  dir: string,
  things: number,
  options: DemoOptions,
): Promise<NonNullable<DemoResult['snapshot']>> {
  const progress = options.onProgress ?? (() => {});
  progress({ step: 'snapshot', done: 0, message: `snapshot of every shadow to ${dir}` });
  const snapOptions: SnapshotOptions = {
    endpoint,
    out: dir,
    allThings: true,
    shadows: 'classic,named',
    onProgress: (p) =>
      progress({
        step: 'snapshot',
        done: p.things,
        total: things,
        records: p.records,
        perSecond: p.thingsPerSecond,
        failed: p.failed,
        throttles: p.throttles,
      }),
  };
  if (options.workers !== undefined) snapOptions.workers = options.workers;
  if (options.signal !== undefined) snapOptions.signal = options.signal;
  const result = await runSnapshot(snapOptions);
  progress({ step: 'snapshot', done: result.things, total: things, records: result.records, final: true });
  return {
    dir: result.location,
    records: result.records,
    things: result.things,
    failed: result.failed,
    durationMs: result.durationMs,
    result,
  };
}

/** The demo's report page: the rollout's page with the demo's own rows and notes. */
async function writeDemoReport(
  reportPage: string,
  rollout: RolloutResult,
  x: {
    things: number;
    rate: number;
    deviceDelayMs: number;
    silentShare: number;
    desired: Record<string, unknown>;
    outcomesFile: string;
    journal: string;
    snapshot: DemoResult['snapshot'];
    emulatorUrl: string;
    started: Date;
  },
): Promise<void> {
  const d = DEFAULT_DEMO_OPTIONS;
  const { things, rate, deviceDelayMs, silentShare, desired, outcomesFile, journal, snapshot, started } = x;
  const extraRows: ReportRow[] = [
    {
      label: 'emulator',
      value: `${x.emulatorUrl} (AWS quotas: ${rate}/s per operation, 20/s and 10 in flight per thing)`,
    },
    {
      label: 'simulated devices',
      value: things,
      note: `report after ${deviceDelayMs} ms; ${(silentShare * 100).toFixed(1)}% offline on purpose`,
    },
    { label: 'change', value: JSON.stringify(desired) },
    { label: 'outcome file', value: outcomesFile },
    { label: 'journal', value: journal },
  ];
  if (snapshot !== undefined)
    extraRows.push({
      label: 'snapshot',
      value: snapshot.dir,
      note: `${snapshot.records.toLocaleString('en-US')} shadows of ${snapshot.things.toLocaleString('en-US')} things in ${(snapshot.durationMs / 1000).toFixed(1)} s`,
    });
  await writeRolloutReportPage(reportPage, rollout, {
    title: `shadowfleet demo: rollout to ${things.toLocaleString('en-US')} devices`,
    subtitle: `firmware 1.5.0 and a 5 Hz sample rate, ramped from ${d.ramp.baseRate}/s, on the embedded emulator · ${started.toISOString()}`,
    extraRows,
    notes: [
      'Only what differs is sent: things already on the new values are "unchanged" and get no write.',
      'Every write carries the version it was computed from; a device writing at the same time causes a re-read ("rebased"), never a lost update.',
      'Convergence counts the things whose devices reported the new desired values; the offline share never does.',
      `The change went out in waves: ${d.canary.share * 100}% of the devices first (the same ones on every run), and the rest only once ${d.canary.pass * 100}% of them reported it and health "ok"; a failed gate would have undone every write.`,
    ],
  });
}
