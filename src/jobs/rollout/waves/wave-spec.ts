/**
 * The `waves:` part of a rollout spec: an ordered list of waves, each a share of the targets
 * (cumulative: 5% then 30% means the second wave holds the next 25%) or a selection (a file of
 * thing names, or a condition on the shadow), with an optional gate that must pass before the
 * next wave is written.
 *
 * ```yaml
 * health: 'reported.health == "ok"'      # evaluated per thing on the re-read shadow
 * waves:
 *   - things: canaries.txt                # a name file (relative to the spec)
 *     gate: { converged: 100%, healthy: 100%, within: 2m }
 *   - share: 5%
 *     gate: { converged: 90%, healthy: 95%, within: 30s }
 *   - share: 100%
 * onGateFailure: rollback                 # or: stop (the default)
 * ```
 *
 * `WAVES_SPEC_FIELDS` is a zod shape the rollout spec schema spreads into its own;
 * `checkWaves` adds the problems that span fields; `resolveWaves` turns the parsed fields into
 * `RolloutWaves`. `parseWavesSpec` does all three for a document holding only these fields.
 */
import { dirname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { compileHealthCheck } from '../../../engine/health-check.js';
import { parseDuration } from '../../options/parse-duration.js';
import { formatIssues, throwSpecProblems } from '../../options/spec-file.js';

export type GateFailureAction = 'rollback' | 'stop';

/** What must hold for a wave before the next one goes out. Shares are fractions from 0 to 1. */
export interface WaveGateSpec {
  /** Share of the wave's written things whose reported state follows the desired keys written. */
  converged?: number;
  /** Share of the wave's written things that converged and for which the health expression holds. */
  healthy?: number;
  /** How long the gate waits for the shares to reach the thresholds, ms. */
  withinMs: number;
}

/** One wave: exactly one of `share` (cumulative, 0..1), `things` (absolute path of a name file), `where` (a condition). */
export interface WaveSpec {
  share?: number;
  things?: string;
  where?: string;
  gate?: WaveGateSpec;
}

export interface RolloutWaves {
  waves: WaveSpec[];
  /** Health expression on the shadow (e.g. `reported.health == "ok"`). */
  health?: string;
  onGateFailure: GateFailureAction;
}

const PERCENT = 'expected a percentage like 5% (more than 0%, at most 100%)';
const DURATION = 'expected a duration like 30s or 5m';

/** `5%`, `12.5%`: a fraction in (0, 1]. A bare number is refused: 5 could mean 5% or 500%. */
const percent = () =>
  z.string({ error: PERCENT }).transform((v, ctx) => {
    const m = /^\s*(\d+(?:\.\d+)?)\s*%\s*$/.exec(v);
    const n = m === null ? Number.NaN : Number(m[1]);
    if (!(n > 0 && n <= 100)) {
      ctx.addIssue({ code: 'custom', message: PERCENT });
      return z.NEVER;
    }
    return n / 100;
  });

/** Like `percent`, 0% allowed (a gate that only waits for the other threshold). */
const threshold = () =>
  z.string({ error: 'expected a percentage like 95%' }).transform((v, ctx) => {
    const m = /^\s*(\d+(?:\.\d+)?)\s*%\s*$/.exec(v);
    const n = m === null ? Number.NaN : Number(m[1]);
    if (!(n >= 0 && n <= 100)) {
      ctx.addIssue({ code: 'custom', message: 'expected a percentage like 95% (0% to 100%)' });
      return z.NEVER;
    }
    return n / 100;
  });

const duration = () =>
  z.union([z.string(), z.number()], { error: DURATION }).transform((v, ctx) => {
    const ms = parseDuration(v);
    if (ms === undefined || ms <= 0) {
      ctx.addIssue({ code: 'custom', message: DURATION });
      return z.NEVER;
    }
    return ms;
  });

const nonEmpty = (what: string) =>
  z
    .string({ error: `expected ${what}` })
    .trim()
    .min(1, { error: `expected ${what}` });

const gateSchema = z.strictObject(
  {
    converged: threshold().optional(),
    healthy: threshold().optional(),
    within: duration(),
  },
  { error: 'expected a gate like { converged: 90%, healthy: 95%, within: 30s }' },
);

const waveSchema = z.strictObject(
  {
    share: percent().optional(),
    things: nonEmpty('the path of a file of thing names').optional(),
    where: nonEmpty('a condition on the shadow').optional(),
    gate: gateSchema.optional(),
  },
  { error: 'expected a wave like { share: 5%, gate: { ... } }' },
);

/** The zod fields of the rollout spec schema that describe waves. */
export const WAVES_SPEC_FIELDS = {
  health: nonEmpty('a health expression, e.g. reported.health == "ok"').optional(),
  waves: z
    .array(waveSchema, { error: 'expected a list of waves' })
    .min(1, { error: 'expected at least one wave' })
    .optional(),
  onGateFailure: z.enum(['rollback', 'stop'], { error: 'expected rollback or stop' }).optional(),
};

const wavesOnlySchema = z.object(WAVES_SPEC_FIELDS);
export type WavesSpecFields = z.output<typeof wavesOnlySchema>;

/** Problems that span fields, as `path: message` lines (the caller prefixes the file). */
export function checkWaves(d: WavesSpecFields): string[] {
  const problems: string[] = [];
  const compiles = (expression: string, field: string): void => {
    try {
      compileHealthCheck(expression, field);
    } catch (err) {
      problems.push((err as Error).message);
    }
  };
  if (d.health !== undefined) compiles(d.health, 'health');
  if (d.waves === undefined) {
    if (d.onGateFailure !== undefined) problems.push('onGateFailure: needs waves with gates');
    return problems;
  }
  let lastShare = 0;
  d.waves.forEach((w, i) => {
    const given = [w.share, w.things, w.where].filter((v) => v !== undefined).length;
    if (given !== 1)
      problems.push(`waves[${i}]: give exactly one of share, things (a name file) or where (a condition)`);
    if (w.where !== undefined) compiles(w.where, `waves[${i}].where`);
    if (w.share !== undefined) {
      if (w.share <= lastShare)
        problems.push(
          `waves[${i}].share: shares are cumulative; expected more than the ${fmt(lastShare)} of an earlier wave`,
        );
      lastShare = Math.max(lastShare, w.share);
    }
    const g = w.gate;
    if (g !== undefined) {
      if (g.converged === undefined && g.healthy === undefined)
        problems.push(`waves[${i}].gate: expected converged or healthy (a share to reach)`);
      if (g.healthy !== undefined && d.health === undefined)
        problems.push(`waves[${i}].gate.healthy: needs a health expression (health: at the top of the spec)`);
    }
  });
  const last = d.waves.length - 1;
  if (d.waves[last]!.share !== 1)
    problems.push(`waves[${last}]: the last wave must be share: 100%, so that every target belongs to a wave`);
  if (d.onGateFailure !== undefined && !d.waves.some((w) => w.gate !== undefined))
    problems.push('onGateFailure: no wave has a gate');
  return problems;
}

const fmt = (share: number): string => `${Math.round(share * 10000) / 100}%`;

/** The validated fields as RolloutWaves (undefined without `waves:`); a name file is resolved against the spec's folder. */
export function resolveWaves(d: WavesSpecFields, file: string): RolloutWaves | undefined {
  if (d.waves === undefined) return undefined;
  const base = dirname(resolve(file));
  const waves = d.waves.map((w): WaveSpec => {
    const out: WaveSpec = {};
    if (w.share !== undefined) out.share = w.share;
    if (w.things !== undefined) out.things = isAbsolute(w.things) ? w.things : resolve(base, w.things);
    if (w.where !== undefined) out.where = w.where;
    if (w.gate !== undefined) {
      const gate: WaveGateSpec = { withinMs: w.gate.within };
      if (w.gate.converged !== undefined) gate.converged = w.gate.converged;
      if (w.gate.healthy !== undefined) gate.healthy = w.gate.healthy;
      out.gate = gate;
    }
    return out;
  });
  const out: RolloutWaves = { waves, onGateFailure: d.onGateFailure ?? 'stop' };
  if (d.health !== undefined) out.health = d.health;
  return out;
}

/** Validates a document holding only the wave fields; throws ConfigError naming `file` and each field. */
export function parseWavesSpec(data: unknown, file: string): RolloutWaves | undefined {
  const result = wavesOnlySchema.safeParse(data ?? {});
  const problems = result.success ? checkWaves(result.data) : formatIssues(result.error.issues);
  throwSpecProblems(problems, file);
  return resolveWaves(result.data!, file);
}

/** A short label of a wave for reports and the dry run: `5%`, `canaries.txt`, `where reported.site == "lab"`. */
export function waveLabel(w: WaveSpec): string {
  if (w.share !== undefined) return fmt(w.share);
  if (w.things !== undefined) return w.things.split(/[\\/]/).pop()!;
  return `where ${w.where}`;
}
