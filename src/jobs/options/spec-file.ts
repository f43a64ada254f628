/**
 * Reading the YAML/JSON files the jobs take (rollout specs, bench scenarios): load, parse and
 * turn zod issues into messages that name the file and the field path
 * (`rollout.yaml: rate.perSecond: expected a positive number`). Each job keeps its own schema;
 * this module is the one place that decides how those files are read and how problems read.
 */
import { readFile } from 'node:fs/promises';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../../errors.js';

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

/** Parses YAML or JSON text (JSON is YAML); syntax errors become a ConfigError naming `file` and the line. */
export function parseSpecText(text: string, file: string): unknown {
  try {
    return parseYaml(text, { prettyErrors: true, uniqueKeys: true });
  } catch (err) {
    if (err instanceof YAMLParseError) {
      const line = err.linePos?.[0]?.line;
      const first = err.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
      throw new ConfigError(`${file}:${line === undefined ? '' : `${line}:`} ${first}`, { cause: err });
    }
    throw new ConfigError(`${file}: ${(err as Error).message}`, { cause: err });
  }
}

/** Reads a spec file as text; `what` names it in the error (`cannot read the rollout spec (ENOENT)`). */
export async function readSpecFile(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`${file}: cannot read the ${what} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { cause: err });
  }
}

/** Drops the keys whose value is undefined (zod's optional fields), so results compare cleanly. */
export function stripUndefined<T extends object>(o: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out as T;
}
