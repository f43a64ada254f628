/**
 * Reading the YAML/JSON files the jobs take (rollout specs, bench scenarios): load, parse and
 * turn zod issues into messages that name the file and the field path
 * (`rollout.yaml: rate.perSecond: expected a positive number`). Each job keeps its own schema;
 * this module is the one place that decides how those files are read and how problems read.
 */
import { readBounded } from '../../io/read-bounded.js';
import { createRequire } from 'node:module';
import type { ParseOptions, SchemaOptions, ToJSOptions } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../../errors.js';
import { LosslessNumber, isExactNumber, jsonNumber } from '../../shadow/json-text.js';

/** `abort[0].failureType` style paths; `(root)` for the document itself. */
export function formatIssuePath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out === '' ? String(p) : `.${String(p)}`;
  }
  return out === '' ? '(root)' : out;
}

/** One `path: message` line per problem; unknown keys get a line each. */
export function formatIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  const lines: string[] = [];
  for (const iss of issues) {
    if (iss.code === 'unrecognized_keys') {
      for (const key of iss.keys) lines.push(`${formatIssuePath([...iss.path, key])}: unknown field`);
      continue;
    }
    if (iss.code === 'invalid_union' && iss.errors.length > 0) {
      // a field written in one of several shapes (a single mapping or a list):
      // report the issues of the branch whose shape matched
      const branch = iss.errors.find((b) => b.length > 0 && b.every((e) => e.path.length > 0));
      if (branch !== undefined) {
        lines.push(...formatIssues(branch.map((e) => ({ ...e, path: [...iss.path, ...e.path] }) as z.core.$ZodIssue)));
        continue;
      }
    }
    lines.push(`${formatIssuePath(iss.path)}: ${iss.message}`);
  }
  return lines;
}

/** Throws one ConfigError listing every problem, one per line, each prefixed with `file: `. */
export function throwSpecProblems(problems: readonly string[], file: string): void {
  if (problems.length > 0) throw new ConfigError(problems.map((p) => `${file}: ${p}`).join('\n'));
}

/**
 * A YAML number as JSON number text (`+5` -> `5`, `.5` -> `0.5`, `5.` -> `5`, `007` -> `7`,
 * `0x1F` -> `31`, `0o17` -> `15`), or undefined for `.inf` / `.nan`.
 */
function yamlNumberText(str: string): string | undefined {
  if (/^0x[0-9a-fA-F]+$/.test(str) || /^0o[0-7]+$/.test(str)) return BigInt(str).toString();
  const m = /^([-+]?)([0-9]*)(?:\.([0-9]*))?(?:[eE]([-+]?[0-9]+))?$/.exec(str);
  if (m === null || (m[2] === '' && (m[3] ?? '') === '')) return undefined;
  const int = (m[2] ?? '').replace(/^0+(?=[0-9])/, '') || '0';
  const frac = m[3] ?? '';
  return `${m[1] === '-' ? '-' : ''}${int}${frac === '' ? '' : `.${frac}`}${m[4] === undefined ? '' : `e${m[4]}`}`;
}

type ScalarTag = { tag: string; resolve: (str: string, ...rest: never[]) => unknown };

/**
 * YAML's int and float tags, each first trying the exact path: a number a double cannot hold
 * (`12345678901234567891`, `0.1000000000000000055511151231257827`, `1e400`) keeps its text as
 * an ExactNumber (src/shadow/json-text.ts), as in a JSON spec; any other resolves as before.
 */
function exactNumberTags(tags: SchemaOptions['customTags'] & unknown[]): unknown[] {
  return tags.map((t) => {
    const tag = t as ScalarTag;
    if (
      typeof tag !== 'object' ||
      (tag.tag !== 'tag:yaml.org,2002:int' && tag.tag !== 'tag:yaml.org,2002:float') ||
      typeof tag.resolve !== 'function'
    )
      return t;
    return {
      ...tag,
      resolve(str: string, ...rest: never[]): unknown {
        const text = yamlNumberText(str);
        const exact = text === undefined ? undefined : jsonNumber(text);
        return exact instanceof LosslessNumber ? exact : tag.resolve(str, ...rest);
      },
    };
  });
}

const YAML_OPTIONS: ParseOptions & SchemaOptions & ToJSOptions = {
  prettyErrors: true,
  uniqueKeys: true,
  customTags: (tags) => exactNumberTags(tags as never) as typeof tags,
};

/** What YAML can give that JSON cannot hold, by type: the spec is refused, naming the field. */
function notJson(v: unknown): string | undefined {
  if (v === null || typeof v === 'string' || typeof v === 'boolean' || typeof v === 'number') return undefined;
  if (typeof v !== 'object') return `a ${typeof v}`;
  if (Array.isArray(v) || isExactNumber(v)) return undefined;
  if (v instanceof Uint8Array) return 'binary data (!!binary)';
  if (v instanceof Set) return 'a set (!!set)';
  if (v instanceof Map) return 'an ordered map (!!omap or !!pairs)';
  if (v instanceof Date) return 'a timestamp (!!timestamp)';
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null ? undefined : 'a value JSON cannot hold';
}

function firstNotJson(
  v: unknown,
  path: Array<string | number>,
): { path: Array<string | number>; what: string } | undefined {
  const what = notJson(v);
  if (what !== undefined) return { path, what };
  if (v === null || typeof v !== 'object' || isExactNumber(v)) return undefined;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const found = firstNotJson(v[i], [...path, i]);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  for (const [k, child] of Object.entries(v)) {
    const found = firstNotJson(child, [...path, k]);
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * The YAML parser, loaded when the first spec file is read: a command given no spec file (a
 * rollout with --set) does not pay for it at start-up (about 30 ms of CPU).
 */
function yaml(): typeof import('yaml') {
  loadedYaml ??= createRequire(import.meta.url)('yaml') as typeof import('yaml');
  return loadedYaml;
}
let loadedYaml: typeof import('yaml') | undefined;

/**
 * Parses YAML or JSON text (JSON is YAML) into JSON values: numbers a double cannot hold keep
 * their text (ExactNumber); syntax errors become a ConfigError naming `file` and the line, and
 * values JSON cannot hold (`!!binary`, `!!set`, `!!timestamp`, ...) a ConfigError naming the
 * file and the field, never a silent `{"0":104,...}`.
 */
export function parseSpecText(text: string, file: string): unknown {
  const { parse: parseYaml, YAMLParseError } = yaml();
  let value: unknown;
  try {
    value = parseYaml(text, YAML_OPTIONS);
  } catch (err) {
    if (err instanceof YAMLParseError) {
      const line = err.linePos?.[0]?.line;
      const first = err.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
      throw new ConfigError(`${file}:${line === undefined ? '' : `${line}:`} ${first}`, { cause: err });
    }
    throw new ConfigError(`${file}: ${(err as Error).message}`, { cause: err });
  }
  const bad = firstNotJson(value, []);
  if (bad !== undefined)
    throw new ConfigError(
      `${file}: ${formatIssuePath(bad.path)}: ${bad.what} is not a JSON value; write it as a string or a number`,
    );
  return value;
}

/** The largest spec file read (a spec is a few KB; this bounds a wrong path like /dev/zero). */
export const MAX_SPEC_FILE_BYTES = 1024 * 1024;

/**
 * Reads a spec file as text, at most MAX_SPEC_FILE_BYTES (a device, a directory or a procfs file
 * is refused by path); `what` names it in the error (`cannot read the rollout spec (ENOENT)`).
 */
export async function readSpecFile(file: string, what: string): Promise<string> {
  try {
    return (await readBounded(file, MAX_SPEC_FILE_BYTES, what)).toString('utf8');
  } catch (err) {
    const cause = (err as { cause?: NodeJS.ErrnoException }).cause;
    if (cause?.code !== undefined) throw new ConfigError(`${file}: cannot read the ${what} (${cause.code})`, { cause });
    throw new ConfigError((err as Error).message, { cause: err });
  }
}

/** Drops the keys whose value is undefined (zod's optional fields), so results compare cleanly. */
export function stripUndefined<T extends object>(o: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out as T;
}
