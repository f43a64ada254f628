/**
 * A load scenario for `shadowfleet bench`, written as YAML or JSON and validated once, with
 * messages that name the file and the field (`load.yaml: operations.get: expected a weight >= 0`).
 *
 * ```yaml
 * operations: { get: 60, update: 30, list: 5, publish: 5 }   # relative weights
 * things: 1000              # bench-0 ... bench-999
 * prefix: bench-            # the only things the run touches
 * shadow: classic           # or a named shadow
 * documentBytes: [256, 1024]  # update documents, bytes (one size, or several picked in turn)
 * rate: 2000                # target ops/s, all operations together; or:
 * concurrency: 64           # operations in flight
 * duration: 30s             # or count: 100000
 * workers: 2
 * prepare: true             # write one document per thing before measuring
 * cleanup: false            # delete the things' shadows afterwards
 * pricing: { perMillion: 1.25, meterBytes: 1024 }
 * ```
 */
import { z } from 'zod';
import { checkOptions, expected, positiveField, positiveIntField } from '../options/option-schema.js';
import { parseDuration } from '../options/parse-duration.js';
import { formatIssues, parseSpecText, readSpecFile, stripUndefined, throwSpecProblems } from '../options/spec-file.js';

export type BenchOperation = 'get' | 'update' | 'delete' | 'list' | 'publish';
export const BENCH_OPERATIONS: readonly BenchOperation[] = Object.freeze([
  'get',
  'update',
  'delete',
  'list',
  'publish',
]);

/** AWS prices used for the cost estimate (US East, published list prices; change them for your region or contract). */
export interface BenchPricing {
  /** Device Shadow operations, US$ per million. Default 1.25. */
  perMillion?: number;
  /** Shadow operations are metered per this many bytes (a 1.5 KB update bills as 2). Default 1024. */
  meterBytes?: number;
  /** Messaging (Publish), US$ per million messages. Default 1.0. */
  publishPerMillion?: number;
  /** Messages are metered per this many bytes. Default 5120. */
  publishMeterBytes?: number;
}

/** The scenario fields, as the file spells them after validation. Field names match BenchOptions. */
export interface BenchScenario {
  operations?: Partial<Record<BenchOperation, number>>;
  things?: number;
  prefix?: string;
  /** Named shadow; undefined = classic. */
  shadowName?: string;
  documentBytes?: number[];
  rate?: number;
  concurrency?: number;
  durationMs?: number;
  count?: number;
  workers?: number;
  prepare?: boolean;
  cleanup?: boolean;
  pricing?: BenchPricing;
}

const weight = () =>
  z
    .number({ error: 'expected a weight >= 0' })
    .min(0, { error: 'expected a weight >= 0' })
    .finite({ error: 'expected a weight >= 0' });
const RATE = 'a rate in operations per second';
// The option fields shared by the jobs (src/jobs/options/option-schema.ts): the one positive check, the one template.
const positiveInt = positiveIntField;
const positive = positiveField;
const DOC = 'expected a document size in bytes from 64 to 8000';
const docBytes = () => z.number({ error: DOC }).int({ error: DOC }).min(64, { error: DOC }).max(8000, { error: DOC });
const DURATION = 'expected a duration like 30s or 2m';

const scenarioSchema = z.strictObject(
  {
    operations: z
      .strictObject(
        {
          get: weight().optional(),
          update: weight().optional(),
          delete: weight().optional(),
          list: weight().optional(),
          publish: weight().optional(),
        },
        { error: 'expected weights by operation, e.g. { get: 50, update: 50 }' },
      )
      .optional(),
    things: positiveInt().optional(),
    prefix: z
      .string({ error: 'expected a thing name prefix' })
      .regex(/^[a-zA-Z0-9:_-]{1,100}$/, { error: 'expected 1-100 characters of a-z A-Z 0-9 : _ -' })
      .optional(),
    shadow: z
      .string({ error: 'expected a shadow name, or "classic"' })
      .regex(/^[$a-zA-Z0-9:_-]{1,64}$/, { error: 'expected a shadow name, or "classic"' })
      .optional(),
    documentBytes: z.union([docBytes(), z.array(docBytes()).min(1, { error: DOC })], { error: DOC }).optional(),
    rate: positive(RATE).optional(),
    concurrency: positiveInt().optional(),
    duration: z.union([z.string(), z.number()], { error: DURATION }).optional(),
    count: positiveInt().optional(),
    workers: positiveInt().optional(),
    prepare: z.boolean({ error: 'expected true or false' }).optional(),
    cleanup: z.boolean({ error: 'expected true or false' }).optional(),
    pricing: z
      .strictObject({
        perMillion: z.number({ error: 'expected a price >= 0' }).min(0, { error: 'expected a price >= 0' }).optional(),
        meterBytes: positiveInt().optional(),
        publishPerMillion: z
          .number({ error: 'expected a price >= 0' })
          .min(0, { error: 'expected a price >= 0' })
          .optional(),
        publishMeterBytes: positiveInt().optional(),
      })
      .optional(),
  },
  { error: 'expected a mapping of load settings' },
);

/**
 * The same counts and rate as BenchOptions carries them (`rate` may also be 'off' there): the
 * scenario's fields, one definition each.
 */
const optionsSchema = z.object({
  things: positiveInt().optional(),
  rate: z.union([z.literal('off'), positive(RATE)], { error: expected(`${RATE} or 'off'`) }).optional(),
  concurrency: positiveInt().optional(),
  count: positiveInt().optional(),
  workers: positiveInt().optional(),
  intervalMs: positiveInt().optional(),
});

/**
 * Checks bench options' counts and rate through the scenario's schema, every problem a line in
 * the one template (`[<source>: ]<field>: expected <what>, got <value>`); `source` names where a
 * field came from (a flag), nothing for a library call. Throws InvalidArgumentError.
 */
export function checkBenchOptions(options: unknown, source?: (field: string) => string | undefined): void {
  checkOptions(optionsSchema, options, source);
}

/** Validates a scenario already parsed from YAML/JSON; `file` names the source in messages. Throws ConfigError listing every problem. */
export function validateBenchScenario(data: unknown, file: string): BenchScenario {
  const result = scenarioSchema.safeParse(data ?? {});
  const problems = result.success ? [] : formatIssues(result.error.issues);
  let durationMs: number | undefined;
  if (result.success) {
    const d = result.data;
    if (d.duration !== undefined) {
      durationMs = parseDuration(d.duration);
      if (durationMs === undefined || durationMs <= 0) problems.push(`duration: ${DURATION}`);
    }
    if (d.operations !== undefined && !Object.values(d.operations).some((w) => (w ?? 0) > 0)) {
      problems.push('operations: expected at least one operation with a weight above 0');
    }
  }
  throwSpecProblems(problems, file);
  const d = result.data!;
  const out: BenchScenario = {};
  if (d.operations !== undefined) out.operations = stripUndefined(d.operations);
  if (d.things !== undefined) out.things = d.things;
  if (d.prefix !== undefined) out.prefix = d.prefix;
  if (d.shadow !== undefined && d.shadow !== 'classic') out.shadowName = d.shadow;
  if (d.documentBytes !== undefined)
    out.documentBytes = Array.isArray(d.documentBytes) ? d.documentBytes : [d.documentBytes];
  if (d.rate !== undefined) out.rate = d.rate;
  if (d.concurrency !== undefined) out.concurrency = d.concurrency;
  if (durationMs !== undefined) out.durationMs = durationMs;
  if (d.count !== undefined) out.count = d.count;
  if (d.workers !== undefined) out.workers = d.workers;
  if (d.prepare !== undefined) out.prepare = d.prepare;
  if (d.cleanup !== undefined) out.cleanup = d.cleanup;
  if (d.pricing !== undefined) out.pricing = stripUndefined(d.pricing);
  return out;
}

/** Parses YAML or JSON text (JSON is YAML) and validates it. */
export function parseBenchScenario(text: string, file: string): BenchScenario {
  return validateBenchScenario(parseSpecText(text, file), file);
}

/** Reads and validates a scenario file. */
export async function loadBenchScenario(file: string): Promise<BenchScenario> {
  return parseBenchScenario(await readSpecFile(file, 'load scenario'), file);
}
