/**
 * The fleet file: a fleet (which things) and an ordered list of rules (which of those things,
 * and the `desired` fragment they must hold). Later rules override earlier ones key by key.
 *
 * ```yaml
 * fleet: { group: production, recursive: true }   # or { query: "..." }, { things: names.txt }, { all: true }
 * rules:
 *   - name: sampling                       # optional; names the rule in messages and reports
 *     desired: { sampling: { hz: 5 } }     # every thing of the fleet
 *   - name: eu-pilot-firmware
 *     group: eu-pilot                      # a selection within the fleet: group, query, things, where
 *     desired: { firmware: "1.5.0" }
 *   - name: lamp-config
 *     shadow: config                       # a named shadow (absent or "classic": the classic shadow)
 *     where: 'reported.model == "lamp"'    # a condition on the shadow just read
 *     desired: { brightness: 80 }
 * ```
 *
 * Read with the spec reader the jobs share (src/jobs/options/spec-file.ts): YAML or JSON, exact
 * numbers kept, problems named by file, rule (index and name) and field. The desired fragments
 * are checked against the shadow limits (size, depth, what a shadow can store) before anything
 * runs, as the data plane would check them.
 */
import { dirname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { parseUpdateRequest, resolveShadowLimits, stateSize, type ShadowLimits } from '../../shadow/index.js';
import { findUnstorableNumber, stringifyJson } from '../../shadow/json-text.js';
import { isPlainObject, stripNulls } from '../../shadow/merge-state.js';
import { ShadowCondition } from '../../shadow/shadow-condition.js';
import type { JsonObject } from '../../shadow/types.js';
import { formatIssues, parseSpecText, readSpecFile, throwSpecProblems } from '../options/spec-file.js';

/** Which things: a thing group (optionally with its subgroups), a fleet index query, a file of names, or every thing. */
export type FleetSelection =
  | { kind: 'group'; group: string; recursive: boolean }
  | { kind: 'query'; query: string }
  | { kind: 'things'; file: string }
  | { kind: 'all' };

export interface FleetRule {
  /** Position in the file (0-based). */
  index: number;
  /** The rule's name, else `rules[i]`. */
  name: string;
  /** Within the fleet; undefined: every thing of the fleet. */
  selection?: FleetSelection;
  /** A condition on the shadow just read (`where`), compiled once. */
  where?: ShadowCondition;
  /** Named shadow; undefined: the classic shadow. */
  shadowName?: string;
  /** The desired merge document this rule requires (null: the key must be absent). */
  desired: JsonObject;
}

export interface FleetFile {
  /** The file it was read from (messages, reports). */
  file: string;
  fleet: FleetSelection;
  rules: FleetRule[];
}

const NAME = /^[a-zA-Z0-9:_-]{1,128}$/;
const SELECTION_KEYS = ['group', 'query', 'things', 'all'] as const;

const selectionFields = {
  group: z
    .string({ error: 'expected a thing group name' })
    .regex(NAME, { error: 'expected a thing group name (1-128 of a-z A-Z 0-9 : _ -)' })
    .optional(),
  recursive: z.boolean({ error: 'expected true or false' }).optional(),
  query: z
    .string({ error: 'expected a fleet index query' })
    .min(1, { error: 'expected a fleet index query' })
    .optional(),
  things: z
    .string({ error: 'expected the path of a file of thing names' })
    .min(1, { error: 'expected the path of a file of thing names' })
    .optional(),
};

const fleetSchema = z.strictObject(
  { ...selectionFields, all: z.literal(true, { error: 'expected true' }).optional() },
  { error: 'expected a mapping: { group: NAME } | { query: QUERY } | { things: FILE } | { all: true }' },
);

const ruleSchema = z.strictObject(
  {
    name: z
      .string({ error: 'expected a rule name' })
      .min(1, { error: 'expected a rule name' })
      .max(128, { error: 'expected at most 128 characters' })
      .optional(),
    ...selectionFields,
    where: z.string({ error: 'expected a condition such as reported.model == "lamp"' }).optional(),
    shadow: z
      .string({ error: 'expected a shadow name, or "classic"' })
      .min(1, { error: 'expected a shadow name, or "classic"' })
      .optional(),
    desired: z.record(z.string(), z.unknown(), { error: 'expected a mapping (the desired merge document)' }),
  },
  { error: 'expected a mapping with desired and an optional selection' },
);

const fileSchema = z.strictObject(
  {
    fleet: fleetSchema,
    rules: z.array(ruleSchema, { error: 'expected a list of rules' }).min(1, { error: 'expected at least one rule' }),
  },
  { error: 'expected a mapping with fleet and rules' },
);

type RawSelection = {
  group?: string | undefined;
  recursive?: boolean | undefined;
  query?: string | undefined;
  things?: string | undefined;
  all?: true | undefined;
};

/** The selection of a mapping, or a problem; `optional`: none given is allowed (a rule over the whole fleet). */
function selectionOf(raw: RawSelection, file: string, optional: boolean): FleetSelection | string | undefined {
  const given = SELECTION_KEYS.filter((k) => raw[k] !== undefined);
  if (given.length > 1) return `give one of group, query, things${optional ? '' : ', all'}, not ${given.join(' and ')}`;
  if (raw.recursive !== undefined && raw.group === undefined) return 'recursive: only with group';
  if (raw.group !== undefined) return { kind: 'group', group: raw.group, recursive: raw.recursive === true };
  if (raw.query !== undefined) return { kind: 'query', query: raw.query };
  if (raw.things !== undefined)
    return { kind: 'things', file: isAbsolute(raw.things) ? raw.things : resolve(dirname(resolve(file)), raw.things) };
  if (raw.all === true) return { kind: 'all' };
  return optional ? undefined : 'expected one of group, query, things or all: true';
}

/** `rules[2] (eu-pilot)` for messages. */
function ruleLabel(index: number, name: string | undefined): string {
  return name === undefined ? `rules[${index}]` : `rules[${index}] (${name})`;
}

/** Issue paths under a rule name the rule by index and name: `rules[1] (eu-pilot): desired.fw: ...`. */
function labelIssue(line: string, names: ReadonlyArray<string | undefined>): string {
  const m = /^rules\[(\d+)\](\.)?(.*)$/.exec(line);
  if (m === null) return line;
  const i = Number(m[1]);
  const rest = m[2] === '.' ? m[3]! : m[3]!.replace(/^: /, '');
  return `${ruleLabel(i, names[i])}: ${rest}`;
}

/** What the data plane would say about a `desired` fragment sent alone, or undefined when it would take it. */
export function checkDesiredFragment(desired: JsonObject, limits: Readonly<ShadowLimits>): string | undefined {
  const parsed = parseUpdateRequest(stringifyJson({ state: { desired } }), limits);
  if (!parsed.ok) return parsed.fault.message;
  const unstorable = findUnstorableNumber(desired);
  if (unstorable !== undefined)
    return `${unstorable.path || '/'} is ${unstorable.text}, outside the range of a double; a shadow cannot store it`;
  const size = stateSize(stripNulls(desired));
  return size > limits.maxStateBytes
    ? `${size} bytes of state, more than a shadow holds (${limits.maxStateBytes})`
    : undefined;
}

/**
 * Validates a fleet file already parsed from YAML/JSON. `file` names it in messages and anchors
 * relative `things` paths. Throws ConfigError listing every problem, one per line.
 */
export function validateFleetFile(
  data: unknown,
  file: string,
  options: { limits?: Partial<ShadowLimits> } = {},
): FleetFile {
  const limits = resolveShadowLimits(options.limits);
  const rawRules = isPlainObject(data) && Array.isArray(data.rules) ? data.rules : [];
  const names = rawRules.map((r) => (isPlainObject(r) && typeof r.name === 'string' ? r.name : undefined));
  const result = fileSchema.safeParse(data ?? {});
  if (!result.success)
    throwSpecProblems(
      formatIssues(result.error.issues).map((l) => labelIssue(l, names)),
      file,
    );
  const d = result.data!;
  const problems: string[] = [];
  const fleet = selectionOf(d.fleet, file, false);
  if (typeof fleet === 'string') problems.push(`fleet: ${fleet}`);
  const rules: FleetRule[] = [];
  const seen = new Map<string, number>();
  d.rules.forEach((raw, index) => {
    const label = ruleLabel(index, raw.name);
    if (raw.name !== undefined) {
      const before = seen.get(raw.name);
      if (before !== undefined) problems.push(`${label}: name: already used by rules[${before}]`);
      seen.set(raw.name, index);
    }
    const selection = selectionOf(raw, file, true);
    if (typeof selection === 'string') problems.push(`${label}: ${selection}`);
    const rule: FleetRule = { index, name: raw.name ?? `rules[${index}]`, desired: raw.desired as JsonObject };
    if (typeof selection === 'object') rule.selection = selection;
    if (raw.where !== undefined) {
      try {
        rule.where = new ShadowCondition(raw.where);
      } catch (err) {
        problems.push(`${label}: ${(err as Error).message}`);
      }
    }
    if (raw.shadow !== undefined && raw.shadow !== 'classic') {
      if (!/^[a-zA-Z0-9:_-]{1,64}$/.test(raw.shadow))
        problems.push(`${label}: shadow: expected a shadow name (1-64 of a-z A-Z 0-9 : _ -), or "classic"`);
      rule.shadowName = raw.shadow;
    }
    if (Object.keys(raw.desired).length === 0) problems.push(`${label}: desired: expected at least one key`);
    else {
      const fault = checkDesiredFragment(rule.desired, limits);
      if (fault !== undefined) problems.push(`${label}: desired: ${fault}`);
    }
    rules.push(rule);
  });
  throwSpecProblems(problems, file);
  return { file, fleet: fleet as FleetSelection, rules };
}

/** Parses YAML or JSON text and validates it. */
export function parseFleetFile(
  text: string,
  file: string,
  options: { limits?: Partial<ShadowLimits> } = {},
): FleetFile {
  return validateFleetFile(parseSpecText(text, file), file, options);
}

/** Reads and validates a fleet file. */
export async function loadFleetFile(
  file: string,
  options: { limits?: Partial<ShadowLimits> } = {},
): Promise<FleetFile> {
  return parseFleetFile(await readSpecFile(file, 'fleet file'), file, options);
}

/** The selection as text, for reports: `group eu-pilot (recursive)`, `query "..."`, `things names.txt`, `all things`. */
export function describeSelection(s: FleetSelection | undefined): string {
  if (s === undefined) return 'the whole fleet';
  switch (s.kind) {
    case 'group':
      return `group ${s.group}${s.recursive ? ' (recursive)' : ''}`;
    case 'query':
      return `query ${JSON.stringify(s.query)}`;
    case 'things':
      return `things ${s.file}`;
    case 'all':
      return 'all things';
  }
}
