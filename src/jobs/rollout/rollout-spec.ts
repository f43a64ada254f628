/**
 * The rollout spec: what to change, how fast, when to stop. Written as YAML or JSON, validated
 * once, with messages that name the file and the field path
 * (`rollout.yaml: rate.perSecond: expected a positive number`).
 *
 * ```yaml
 * shadow: config              # a named shadow; `classic` (or absent) for the classic shadow
 * targets: { thingGroup: berlin, recursive: true }  # or { query: 'attributes.site:berlin' }, { allThings: true }
 * where: 'reported.firmware < "1.5.0"'             # only things whose shadow (as read) meets this
 * desired: { fw: "2.4.1" }    # a desired merge document, or:
 * # transform: ./bump.mjs     # a module (relative to this file) run inside the workers:
 * #   (shadow, thingName, item) => the whole new desired state, or undefined to skip the thing
 * rate: { perSecond: 4000 }   # account quota per operation (Get, Update), requests/s
 * ramp: { baseRate: 50, factor: 2, everySucceeded: 500 }
 * abort:
 *   - { failureType: all, thresholdPercentage: 5, minThings: 200 }
 * attempts: 5                 # conflict re-reads per thing
 * timeouts: { request: 10s, run: 30m }
 * safety: { maxThings: 1000, maxDeletes: 10 }
 * workers: 2
 * waitConverged: 5m
 * health: 'reported.health == "ok"'   # progressive rollouts: see waves/wave-spec.ts
 * waves: [{ share: 5%, gate: { converged: 90%, healthy: 95%, within: 30s } }, { share: 100% }]
 * onGateFailure: rollback
 * ```
 */
import { dirname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { InvalidArgumentError } from '../../errors.js';
import { formatOptionValue } from '../../options/check-positive.js';
import {
  checkOptions,
  expected,
  nonNegativeIntField,
  positiveField,
  positiveIntField,
  type OptionSource,
} from '../options/option-schema.js';
import { parseDuration } from '../options/parse-duration.js';
import {
  formatIssuePath,
  formatIssues,
  parseSpecText,
  readSpecFile,
  stripUndefined,
  throwSpecProblems,
} from '../options/spec-file.js';
import { assertStorableNumbers, findUnstorableNumber, parseJson } from '../../shadow/json-text.js';
import { isPlainObject } from '../../shadow/merge-state.js';
import { checkWaves, resolveWaves, WAVES_SPEC_FIELDS, type RolloutWaves } from './waves/wave-spec.js';
import { checkTargetSelection, type TargetSelection } from '../../engine/target-selection.js';
import { ShadowCondition } from '../../shadow/shadow-condition.js';

import type { JsonObject } from '../../shadow/index.js';

export { parseDuration };

export type FailureType = 'failed' | 'throttled' | 'timed-out' | 'all';
export const FAILURE_TYPES: readonly FailureType[] = Object.freeze(['failed', 'throttled', 'timed-out', 'all']);

/** Stop the rollout when failures of `failureType` pass `thresholdPercentage` of the finished things, once at least `minThings` finished. */
export interface AbortCriterion {
  failureType: FailureType;
  thresholdPercentage: number;
  minThings: number;
}

/** Like IoT Jobs' exponential rollout: start at `baseRate` requests/s, multiply by `factor` after every `everySucceeded` successful things, up to `maxRate` (default the quota). */
export interface RampOptions {
  baseRate: number;
  factor: number;
  everySucceeded: number;
  maxRate?: number;
}

export interface RolloutRateOptions {
  /** Account quota per operation (GetThingShadow, UpdateThingShadow), requests/s. Default 4000. */
  perSecond?: number;
  /** Requests/s per thing, all operations together. Default 20. */
  thingPerSecond?: number;
  /** Requests in flight per thing. Default 10. */
  thingInFlight?: number;
}

export interface RolloutTimeouts {
  /** Per HTTP request, ms. */
  requestMs?: number;
  /** Whole run (writes, not convergence), ms: the run stops with reason `run timeout` when passed. */
  runMs?: number;
}

export interface RolloutSafety {
  /** Blast-radius cap: more targets than this needs `yes`. Default 1000. */
  maxThings?: number;
  /** Deleting keys on more things than this needs `allowDeletes`. Default 10. */
  maxDeletes?: number;
  allowDeletes?: boolean;
}

/** A parsed, validated spec. Field names match RolloutOptions, so `{ ...spec, ...runtime }` is a valid options object. */
export interface RolloutSpec {
  /** Named shadow; undefined = classic. */
  shadowName?: string;
  /** The things, chosen as the fleet is organised (a thing group, a fleet indexing query, all); command-line targets replace it. */
  targets?: TargetSelection;
  /** A condition on the shadow being changed, as read just before the write (ShadowCondition syntax). */
  where?: string;
  desired?: JsonObject;
  /** Absolute path of the transform module. */
  transform?: string;
  rate?: RolloutRateOptions;
  ramp?: RampOptions;
  abort?: AbortCriterion[];
  attempts?: number;
  timeouts?: RolloutTimeouts;
  safety?: RolloutSafety;
  workers?: number;
  waitConvergedMs?: number;
  /** Progressive rollout: waves with gates, the health expression, what a failed gate does. */
  waves?: RolloutWaves;
}

const PERCENTAGE = expected('a percentage from 0 to 100');
const DURATION = 'a duration like 90s or 5m';

// The option fields shared by the jobs (src/jobs/options/option-schema.ts): the one positive check, the one template.
const positive = () => positiveField();
const positiveInt = positiveIntField;
const nonNegativeInt = nonNegativeIntField;
const duration = () =>
  z.union([z.string(), z.number()], { error: expected(DURATION) }).transform((v, ctx) => {
    const ms = parseDuration(v);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: `expected ${DURATION}, got ${formatOptionValue(v)}` });
      return z.NEVER;
    }
    return ms;
  });

const jsonObject = z.record(z.string(), z.unknown(), { error: 'expected an object (a desired merge document)' });

const criterionSchema = z.strictObject({
  failureType: z.enum(['failed', 'throttled', 'timed-out', 'all'], {
    error: 'expected one of failed, throttled, timed-out, all',
  }),
  thresholdPercentage: z.number({ error: PERCENTAGE }).min(0, { error: PERCENTAGE }).max(100, { error: PERCENTAGE }),
  minThings: nonNegativeInt().default(0),
});

/**
 * The settings a spec file, the CLI's flags and the library's options share, field by field:
 * one definition each, so the three accept the same values and word a problem the same way.
 */
const RATE_FIELDS = {
  perSecond: positive().optional(),
  thingPerSecond: positive().optional(),
  thingInFlight: positiveInt().optional(),
};
const RAMP_FIELDS = {
  baseRate: positive(),
  factor: z
    .number({ error: expected('a number greater than 1') })
    .gt(1, { error: expected('a number greater than 1') }),
  everySucceeded: positiveInt(),
  maxRate: positive().optional(),
};
const SAFETY_FIELDS = {
  maxThings: nonNegativeInt().optional(),
  maxDeletes: nonNegativeInt().optional(),
  allowDeletes: z.boolean({ error: 'expected true or false' }).optional(),
};

const specSchema = z.strictObject(
  {
    shadow: z
      .string({ error: 'expected a shadow name, or "classic"' })
      .min(1, { error: 'expected a shadow name, or "classic"' })
      .optional(),
    targets: z
      .strictObject(
        {
          thingGroup: z.string({ error: 'expected a thing group name' }).optional(),
          recursive: z.boolean({ error: 'expected true or false' }).optional(),
          query: z.string({ error: 'expected a fleet indexing query' }).optional(),
          index: z.string({ error: 'expected an index name (AWS_Things)' }).optional(),
          allThings: z.literal(true, { error: 'expected true' }).optional(),
        },
        { error: 'expected a selection: { thingGroup, recursive }, { query, index } or { allThings: true }' },
      )
      .optional(),
    where: z.string({ error: 'expected a condition such as reported.firmware < "1.5.0"' }).optional(),
    desired: jsonObject.optional(),
    transform: z
      .string({ error: 'expected the path of a transform module' })
      .min(1, { error: 'expected the path of a transform module' })
      .optional(),
    rate: z.strictObject(RATE_FIELDS).optional(),
    ramp: z.strictObject(RAMP_FIELDS).optional(),
    abort: z
      .union([criterionSchema, z.array(criterionSchema)], { error: 'expected an abort criterion or a list of them' })
      .optional(),
    attempts: positiveInt().optional(),
    timeouts: z.strictObject({ request: duration().optional(), run: duration().optional() }).optional(),
    safety: z.strictObject(SAFETY_FIELDS).optional(),
    workers: positiveInt().optional(),
    waitConverged: duration().optional(),
    ...WAVES_SPEC_FIELDS,
  },
  { error: 'expected a mapping of rollout settings' },
);

/**
 * The same settings as RolloutOptions carries them (the library's form: `rate` may be 'off',
 * `abort` is a list, plus the run's own batchSize and requestAttempts). Other option fields
 * (endpoint, targets, the change...) are checked by runRollout itself.
 */
const optionsSchema = z.object({
  rate: z
    .union([z.literal('off'), z.object(RATE_FIELDS)], {
      error: "expected { perSecond, thingPerSecond, thingInFlight } or 'off'",
    })
    .optional(),
  ramp: z.object(RAMP_FIELDS, { error: 'expected { baseRate, factor, everySucceeded }' }).optional(),
  abort: z.array(criterionSchema.loose(), { error: 'expected a list of abort criteria' }).optional(),
  attempts: positiveInt().optional(),
  workers: positiveInt().optional(),
  batchSize: positiveInt().optional(),
  requestAttempts: positiveInt().optional(),
  safety: z.object(SAFETY_FIELDS, { error: 'expected { maxThings, maxDeletes, allowDeletes }' }).optional(),
});

/**
 * Checks the settings of rollout options through the rollout's one schema (the one the spec
 * files use): every problem, one a line, in the one template `[<source>: ]<field>: expected
 * <what>, got <value>`. `source` names where a field came from: one name for all (a file), a
 * function of the field path (the CLI: `rate.perSecond` -> `--rate`), or nothing for a library
 * call. Throws InvalidArgumentError.
 */
export function checkRolloutOptions(options: unknown, source?: OptionSource): void {
  checkOptions(optionsSchema, options, source);
}

/**
 * Validates a spec already parsed from YAML/JSON. `file` names the source in messages and
 * anchors a relative `transform` path. Throws ConfigError listing every problem, one per line.
 */
export function validateRolloutSpec(data: unknown, file: string): RolloutSpec {
  const result = specSchema.safeParse(data ?? {});
  const problems: string[] = result.success ? [] : formatIssues(result.error.issues);
  if (result.success) {
    const d = result.data;
    if (d.desired !== undefined && d.transform !== undefined)
      problems.push('(root): give either desired or transform, not both');
    if (d.desired === undefined && d.transform === undefined)
      problems.push('(root): expected desired (a merge document) or transform (a module path)');
    if (d.ramp?.maxRate !== undefined && d.rate?.perSecond !== undefined && d.ramp.maxRate > d.rate.perSecond) {
      problems.push('ramp.maxRate: expected at most rate.perSecond');
    }
    const unstorable = d.desired === undefined ? undefined : findUnstorableNumber(d.desired);
    if (unstorable !== undefined) {
      const path = [
        'desired',
        ...unstorable.path
          .split('/')
          .slice(1)
          .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~')),
      ];
      problems.push(
        `${formatIssuePath(path)}: ${unstorable.text} is outside the range of a double; a shadow cannot store it`,
      );
    }
    problems.push(...checkWaves(d));
    if (d.targets !== undefined) {
      try {
        checkTargetSelection(stripUndefined(d.targets), 'targets');
      } catch (err) {
        problems.push((err as Error).message);
      }
    }
    if (d.where !== undefined) {
      try {
        new ShadowCondition(d.where); // compiled once here: a syntax error names the file and the field
      } catch (err) {
        problems.push((err as Error).message);
      }
    }
  }
  throwSpecProblems(problems, file);
  const d = result.data!;
  const spec: RolloutSpec = {};
  if (d.shadow !== undefined && d.shadow !== 'classic') spec.shadowName = d.shadow;
  if (d.targets !== undefined) spec.targets = checkTargetSelection(stripUndefined(d.targets), 'targets');
  if (d.where !== undefined) spec.where = d.where;
  if (d.desired !== undefined) spec.desired = d.desired as JsonObject;
  if (d.transform !== undefined)
    spec.transform = isAbsolute(d.transform) ? d.transform : resolve(dirname(resolve(file)), d.transform);
  if (d.rate !== undefined) spec.rate = stripUndefined(d.rate);
  if (d.ramp !== undefined) spec.ramp = stripUndefined(d.ramp) as RampOptions;
  if (d.abort !== undefined) spec.abort = (Array.isArray(d.abort) ? d.abort : [d.abort]) as AbortCriterion[];
  if (d.attempts !== undefined) spec.attempts = d.attempts;
  if (d.timeouts !== undefined) {
    const t: RolloutTimeouts = {};
    if (d.timeouts.request !== undefined) t.requestMs = d.timeouts.request;
    if (d.timeouts.run !== undefined) t.runMs = d.timeouts.run;
    spec.timeouts = t;
  }
  if (d.safety !== undefined) spec.safety = stripUndefined(d.safety);
  if (d.workers !== undefined) spec.workers = d.workers;
  if (d.waitConverged !== undefined) spec.waitConvergedMs = d.waitConverged;
  const waves = resolveWaves(d, file);
  if (waves !== undefined) spec.waves = waves;
  return spec;
}

/** Parses YAML or JSON text (JSON is YAML) and validates it. */
export function parseRolloutSpec(text: string, file: string): RolloutSpec {
  return validateRolloutSpec(parseSpecText(text, file), file);
}

/** Reads and validates a spec file. */
export async function loadRolloutSpec(file: string): Promise<RolloutSpec> {
  return parseRolloutSpec(await readSpecFile(file, 'rollout spec'), file);
}

/** Parses the `--set` inline desired merge document. */
export function parseInlineDesired(text: string, flag = '--set'): JsonObject {
  let v: unknown;
  try {
    v = parseJson(text); // numbers a double cannot hold keep their text
  } catch (err) {
    throw new InvalidArgumentError(`${flag}: expected a JSON object (${(err as Error).message})`);
  }
  if (!isPlainObject(v)) throw new InvalidArgumentError(`${flag}: expected a JSON object`);
  assertStorableNumbers(v, flag);
  return v as JsonObject;
}
