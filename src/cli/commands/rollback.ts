import type { Command } from 'commander';
import type { RollbackOptions, RollbackResult } from '../../index.js';
import { EXIT, type Runner } from '../context.js';
import { positiveIntFlag, rateFlag, requiredEndpoint } from '../flags.js';
import { createProgress } from '../progress.js';

interface RollbackFlags {
  journal?: string;
  endpoint?: string;
  region?: string;
  dryRun?: boolean;
  report?: string;
  rollbackJournal?: string;
  rate?: string;
  workers?: string;
  json?: boolean;
}

/** `shadowfleet rollback --journal FILE`: undoes a finished, stopped or crashed rollout. */
export function defineRollback(program: Command, run: Runner): void {
  program
    .command('rollback')
    .description(
      'undo a rollout from its journal: the keys it changed go back to their previous values, version-guarded; keys changed since are kept and listed',
    )
    .option('--journal <file>', 'the journal of the rollout to undo')
    .option('--endpoint <url>', 'data plane endpoint (or SHADOWFLEET_ENDPOINT)')
    .option('--region <region>', 'signing region (or AWS_REGION)')
    .option('--dry-run', 'read and plan only: report what would be restored and kept')
    .option('--report <file>', 'per-thing outcomes (NDJSON); the summary goes to FILE.summary.json')
    .option(
      '--rollback-journal <file>',
      "the rollback's own journal, continued when run again (default: JOURNAL.rollback)",
    )
    .option('--rate <n|off>', 'shadow requests per second (account quota); off = no limit')
    .option('--workers <n>', 'worker threads (default: the core count)')
    .option('--json', 'one JSON result on stdout, JSON progress events (NDJSON) on stderr')
    .action(
      run<RollbackFlags>(async (flags, ctx) => {
        const { runRollback, InvalidArgumentError } = await import('../../index.js');
        if (flags.journal === undefined)
          throw new InvalidArgumentError('--journal: required (the journal of the rollout to undo)');
        const options: RollbackOptions = {
          endpoint: requiredEndpoint(flags.endpoint),
          journal: flags.journal,
          signal: ctx.signal,
        };
        if (flags.region !== undefined) options.region = flags.region;
        if (flags.dryRun) options.dryRun = true;
        if (flags.report !== undefined) options.report = flags.report;
        if (flags.rollbackJournal !== undefined) options.rollbackJournal = flags.rollbackJournal;
        const rate = rateFlag('--rate', flags.rate);
        if (rate !== undefined) options.rates = rate === 'off' ? 'off' : { accountRps: rate };
        const workers = positiveIntFlag('--workers', flags.workers);
        if (workers !== undefined) options.workers = workers;
        const progress = await createProgress<Parameters<NonNullable<RollbackOptions['onProgress']>>[0]>(
          ctx,
          {
            line: (p) =>
              `rollback: ${p.done}/${p.total} things, ${p.rolledBack} rolled back, ${p.kept} with kept keys, ${p.failed} failed`,
          },
          flags.json === true ? { json: true } : { everyMs: ctx.stderrIsTTY ? 1000 : 5000 },
        );
        options.onProgress = progress.update;
        const result = await runRollback(options);
        ctx.out(flags.json ? JSON.stringify(result) : formatRollbackResult(result));
        if (result.interrupted) return EXIT.INTERRUPTED;
        return result.failed > 0 ? EXIT.FAILED : EXIT.OK;
      }),
    );
}

export function formatRollbackResult(r: RollbackResult): string {
  const lines = [
    `${r.dryRun ? 'dry run of a rollback' : 'rolled back'} ${r.journal}${r.interrupted ? ' (interrupted)' : ''}`,
    `  things written by the rollout  ${r.things}${r.resumed > 0 ? ` (${r.resumed} done by an earlier run of this rollback)` : ''}`,
    r.dryRun ? `  would restore                  ${r.wouldWrite}` : `  rolled back                    ${r.rolledBack}`,
    `  already as before              ${r.unchanged}`,
    `  kept (changed since)           ${r.keptKeyCount} keys on ${r.keptThings} things`,
    `  failed                         ${r.failed}`,
  ];
  for (const k of r.keptKeys.slice(0, 20)) {
    const current = k.current === undefined ? 'deleted' : JSON.stringify(k.current);
    lines.push(
      `  kept: ${k.thing}${k.shadow === undefined ? '' : ` "${k.shadow}"`} ${k.path.join('.')}: the rollout ${k.wrote === undefined ? 'deleted it' : `wrote ${JSON.stringify(k.wrote)}`}, now ${current}`,
    );
  }
  for (const f of r.failures.slice(0, 10))
    lines.push(`  failed: ${f.thing}${f.shadow === undefined ? '' : ` "${f.shadow}"`}: ${f.message}`);
  if (r.rollbackJournal !== undefined)
    lines.push(`  journal                        ${r.rollbackJournal} (run the same command again to continue)`);
  return lines.join('\n');
}
