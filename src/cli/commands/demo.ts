import type { Command } from 'commander';
import { EXIT, type CommandContext, type Runner } from '../context.js';
import { durationFlag, numberFlag, positiveIntFlag } from '../flags.js';
import { formatPairs } from '../output.js';
import { createProgress, type Progress } from '../progress.js';
import { waveRows } from '../rollout-output.js';
import type { DemoOptions, DemoProgress, DemoResult } from '../../index.js';

interface DemoFlags {
  things: string;
  out: string;
  deviceDelayMs?: string;
  silentShare?: string;
  rate?: string;
  waitConverged?: string;
  workers?: string;
  json?: boolean;
}

export function defineDemo(program: Command, run: Runner): void {
  program
    .command('demo')
    .description(
      'the whole job on the embedded emulator: seed a fleet, roll out a change, wait for the devices, snapshot, report',
    )
    .option('--things <n>', 'things to seed and roll out to', '10000')
    .option('--out <dir>', 'where the snapshot, the report page and the journal go', './shadowfleet-out')
    .option('--rate <n>', 'account quota of the emulator and the rollout, requests/s per operation (default 4000)')
    .option('--device-delay-ms <n>', 'how long a simulated device takes to report the new desired state (default 4000)')
    .option('--silent-share <r>', 'share of simulated devices that never answer, 0..1 (default 0.005)')
    .option('--wait-converged <duration>', 'how long to wait for the devices (default 20s)')
    .option('--workers <n>', 'worker threads (default: the core count)')
    .option('--json', 'one JSON result on stdout')
    .action(
      run<DemoFlags>(async (flags, ctx) => {
        const lib = await import('../../index.js');
        const options: DemoOptions = { outDir: flags.out, signal: ctx.signal };
        options.things = numberFlag(
          '--things',
          flags.things,
          (n) => Number.isInteger(n) && n > 0 && n <= 1_000_000,
          'an integer from 1 to 1,000,000',
        );
        const rate = numberFlag('--rate', flags.rate, (n) => n > 0, 'a positive number');
        if (rate !== undefined) options.rate = rate;
        const delay = numberFlag('--device-delay-ms', flags.deviceDelayMs, (n) => n >= 0, 'a number of ms >= 0');
        if (delay !== undefined) options.deviceDelayMs = delay;
        const silent = numberFlag('--silent-share', flags.silentShare, (n) => n >= 0 && n <= 1, 'a share from 0 to 1');
        if (silent !== undefined) options.silentShare = silent;
        const workers = positiveIntFlag('--workers', flags.workers);
        if (workers !== undefined) options.workers = workers;
        const waitConverged = durationFlag('--wait-converged', flags.waitConverged, '60s or 2m');
        if (waitConverged !== undefined) options.waitConvergedMs = waitConverged;
        const progress = await demoProgress(flags, ctx);
        options.onProgress = progress.update;
        let result: DemoResult;
        try {
          result = await lib.runDemo(options);
        } finally {
          progress.stop();
        }
        ctx.out(flags.json ? JSON.stringify(result) : formatDemoResult(result));
        if (result.interrupted) return EXIT.INTERRUPTED;
        return result.ok ? EXIT.OK : EXIT.FAILED;
      }),
    );
}

const STEP_TITLE: Record<DemoProgress['step'], string> = {
  emulator: 'emulator',
  rollout: 'rollout ',
  converge: 'converge',
  snapshot: 'snapshot',
  report: 'report  ',
};

/** Progress of the demo: a bar per step on a terminal, its messages between the bars. */
function demoProgress(flags: DemoFlags, ctx: CommandContext): Promise<Progress<DemoProgress>> {
  return createProgress<DemoProgress>(
    ctx,
    {
      line: (p) => p.message ?? line(p),
      urgent: (p) => p.message !== undefined || p.final === true,
      bar: (p) => {
        if (p.message !== undefined) return undefined;
        if (p.step === 'emulator' || p.step === 'report') return null;
        const extra =
          p.step === 'rollout'
            ? `rate ${p.rate ?? '-'}/s | ETA ${p.etaSeconds === undefined ? '-' : `${Math.round(p.etaSeconds)}s`} | throttled ${p.throttles ?? 0} | failed ${p.failed ?? 0}`
            : p.step === 'snapshot'
              ? `${(p.records ?? 0).toLocaleString('en-US')} shadows`
              : '';
        return {
          phase: p.step,
          format:
            p.step === 'converge'
              ? `${STEP_TITLE[p.step]} [{bar}] {percentage}% | {value}/{total} things converged`
              : `${STEP_TITLE[p.step]} [{bar}] {percentage}% | {value}/{total} things | {speed}/s | {extra}`,
          done: p.done,
          total: p.total,
          payload: { speed: (p.perSecond ?? 0).toFixed(0), extra },
        };
      },
    },
    flags.json === true ? { json: true } : { everyMs: 3000 },
  );
}

function line(p: DemoProgress): string {
  const total = p.total === undefined ? '' : `/${p.total}`;
  if (p.step === 'converge') return `converge: ${p.done}${total} things converged`;
  const speed = p.perSecond === undefined ? '' : `, ${p.perSecond.toFixed(0)}/s`;
  const records = p.records === undefined ? '' : ` (${p.records} shadows)`;
  return `${p.step}: ${p.done}${total}${records}${speed}${p.throttles ? `, ${p.throttles} throttled` : ''}${p.failed ? `, ${p.failed} failed` : ''}`;
}

/** The summary printed at the end: what happened and where everything went. */
export function formatDemoResult(r: DemoResult): string {
  const s = r.rollout.summary;
  const c = r.rollout.convergence;
  const by = Object.entries(s.byOutcome)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${v.toLocaleString('en-US')} ${k}`)
    .join(', ');
  const rows: Array<[string, string]> = [
    ['demo', r.interrupted ? 'interrupted' : r.ok ? 'done' : 'finished with failures'],
    ['fleet', `${r.things.toLocaleString('en-US')} simulated devices on the emulator (AWS quotas)`],
    ['targets', `${r.targets}, listed from the emulator's control plane`],
    ['change', JSON.stringify(r.desired)],
    [
      'rollout',
      `${by} in ${(s.elapsedMs / 1000).toFixed(1)} s (${s.thingsPerSecond.toLocaleString('en-US')} things/s)`,
    ],
    ...waveRows(r.rollout),
    ['requests', `${s.requests.toLocaleString('en-US')}, ${s.throttles} throttled, ${s.retries} conflict re-reads`],
    ['bytes sent', `${(s.bytesSent / 1024).toFixed(0)} KiB (${(s.sentShare * 100).toFixed(1)}% of whole documents)`],
  ];
  if (c !== undefined)
    rows.push([
      'converged',
      `${c.converged.toLocaleString('en-US')} of ${c.checked.toLocaleString('en-US')} (${(c.share * 100).toFixed(1)}%) after ${(c.waitedMs / 1000).toFixed(1)} s${c.notConvergedCount > 0 ? `; ${c.notConvergedCount} ${r.interrupted ? 'not yet converged when interrupted' : 'offline devices did not answer'}, e.g. ${c.notConverged.slice(0, 3).join(', ')}` : ''}`,
    ]);
  if (r.snapshot !== undefined)
    rows.push([
      'snapshot',
      `${r.snapshot.dir} (${r.snapshot.records.toLocaleString('en-US')} shadows of ${r.snapshot.things.toLocaleString('en-US')} things, gzip JSON lines + manifest)`,
    ]);
  rows.push(['report page', r.reportPage]);
  rows.push(['outcomes', r.outcomesFile]);
  rows.push(['journal', r.journal]);
  rows.push([
    'took',
    `${(r.durationMs / 1000).toFixed(1)} s (${r.steps.map((st) => `${st.step} ${(st.ms / 1000).toFixed(1)} s`).join(', ')})`,
  ]);
  return `${formatPairs(rows)}\n\nOpen ${r.reportPage} in a browser to see the charts.`;
}
