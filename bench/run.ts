/**
 * The benchmark suite: `npm run bench` (= node --import tsx bench/run.ts).
 *
 * Runs every scenario one after the other; each races its baseline in the same run. Prints every
 * ratio the issues set as a goal with PASS/MISS, and writes bench/results/latest.json and
 * bench/results/latest.md with the machine it ran on.
 *
 *   npm run bench                       full run
 *   npm run bench -- --quick            a few minutes: shorter phases, smaller fleets
 *   npm run bench -- --only client,rollout
 *   npm run bench -- --out DIR          where results go (default bench/results)
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { errorRow, goalsMarkdown, goalsText, type GoalRow } from './lib/goals.js';
import { machineInfo, type MachineInfo } from './lib/machine.js';
import { SCENARIOS } from './lib/scenarios.js';

export interface SuiteResult {
  machine: MachineInfo;
  quick: boolean;
  durationMs: number;
  goals: GoalRow[];
  scenarios: Record<string, { title: string; durationMs: number; raw?: unknown; error?: string }>;
}

export interface SuiteOptions {
  quick?: boolean;
  only?: string[];
  outDir?: string;
  log?: (line: string) => void;
}

export async function runSuite(o: SuiteOptions = {}): Promise<SuiteResult> {
  // The SDK v3 baselines warn about future Node versions on every start; not this run's concern.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const quick = o.quick ?? false;
  const log = o.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const started = Date.now();
  const chosen = SCENARIOS.filter((s) => o.only === undefined || o.only.includes(s.id));
  const unknown = (o.only ?? []).filter((id) => !SCENARIOS.some((s) => s.id === id));
  if (unknown.length > 0)
    throw new Error(`unknown scenario ${unknown.join(', ')} (known: ${SCENARIOS.map((s) => s.id).join(', ')})`);
  const result: SuiteResult = { machine: machineInfo(), quick, durationMs: 0, goals: [], scenarios: {} };
  for (const s of chosen) {
    const t0 = Date.now();
    log(`[${s.id}] ${s.title}${quick ? ' (quick)' : ''}`);
    try {
      const { raw, goals } = await s.run({ quick, log });
      result.goals.push(...goals);
      result.scenarios[s.id] = { title: s.title, durationMs: Date.now() - t0, raw };
      for (const g of goals)
        log(`  ${g.status.padEnd(5)} ${g.metric}: ${g.value ?? '-'}${g.unit ?? ''} (goal ${g.goal})`);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      log(`  ERROR ${message.split('\n')[0]}`);
      for (const goal of s.goals) result.goals.push(errorRow(s.id, goal, goal, err));
      result.scenarios[s.id] = { title: s.title, durationMs: Date.now() - t0, error: message };
    }
    log(`  (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  }
  result.durationMs = Date.now() - started;
  if (o.outDir !== undefined) await writeResults(o.outDir, result);
  return result;
}

/** The Markdown file the README quotes. */
export function resultsMarkdown(r: SuiteResult): string {
  const m = r.machine;
  const counts: Record<string, number> = {};
  for (const g of r.goals) counts[g.status] = (counts[g.status] ?? 0) + 1;
  return [
    `# shadowfleet benchmark results${r.quick ? ' (quick run)' : ''}`,
    '',
    `Machine: ${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB, Node ${m.node}, ${m.os}. Date: ${m.date}. Suite time: ${(r.durationMs / 1000).toFixed(0)} s.`,
    '',
    `Goals: ${counts.PASS ?? 0} PASS, ${counts.MISS ?? 0} MISS, ${counts.ERROR ?? 0} ERROR${counts.INFO ? `, ${counts.INFO} informational` : ''}.`,
    '',
    goalsMarkdown(r.goals),
    '',
    'Each scenario races its baseline in the same run on the same machine; see bench/README.md for what each one isolates.',
    '',
  ].join('\n');
}

async function atomicWrite(path: string, text: string): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, text);
  await rename(tmp, path);
}

export async function writeResults(outDir: string, r: SuiteResult): Promise<{ json: string; md: string }> {
  await mkdir(outDir, { recursive: true });
  const json = join(outDir, 'latest.json');
  const md = join(outDir, 'latest.md');
  await atomicWrite(json, `${JSON.stringify(r, null, 2)}\n`);
  await atomicWrite(md, resultsMarkdown(r));
  return { json, md };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      out: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const outDir = resolve(values.out ?? fileURLToPath(new URL('./results/', import.meta.url)));
  const only = values.only
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const r = await runSuite({ quick: values.quick, outDir, ...(only === undefined ? {} : { only }) });
  const m = r.machine;
  process.stdout.write(
    `\nshadowfleet benchmarks${r.quick ? ' (quick)' : ''}: ${m.cpuModel}, ${m.cores} cores, Node ${m.node}, ${m.date}\n\n`,
  );
  process.stdout.write(values.json ? `${JSON.stringify(r.goals, null, 2)}\n` : `${goalsText(r.goals)}\n`);
  process.stdout.write(`\nresults: ${join(outDir, 'latest.json')}, ${join(outDir, 'latest.md')}\n`);
  // Goals are informational on noisy machines: a MISS does not fail the process; an ERROR does.
  if (r.goals.some((g) => g.status === 'ERROR')) process.exitCode = 1;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main();
}
