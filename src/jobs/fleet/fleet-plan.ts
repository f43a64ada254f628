/**
 * The planning core of a fleet file, pure: for one shadow of one thing, the rules that apply,
 * the desired state they require (their fragments merged in order, key by key: a later rule
 * overrides an earlier one on the keys both set), the minimal update that gets there (the
 * same diff a rollout sends, src/shadow/diff.ts), the key paths that would change, each
 * credited to the rule that decides it, and the bytes of the update document.
 *
 * A second plan after an apply finds nothing to change: the required state is computed from
 * the document just read, so keys the file does not mention (a device's own, another tool's)
 * are never touched.
 */
import { diffToUpdate } from '../../shadow/diff.js';
import { stringifyJson } from '../../shadow/json-text.js';
import { formatKeyPath, leafPaths } from '../../shadow/leaf-paths.js';
import { isPlainObject, mergeState, setOwn } from '../../shadow/merge-state.js';
import type { JsonObject, ShadowDocument } from '../../shadow/types.js';
import type { FleetRule } from './fleet-file.js';

/** What one shadow needs. */
export interface ShadowPlan {
  /** The fragments of the applying rules merged in order (nulls kept: they delete). */
  merged: JsonObject;
  /** The desired state the file requires, from the current one. */
  required: JsonObject | undefined;
  /** The minimal update of `desired`; undefined when the shadow is in line. */
  update: JsonObject | undefined;
  /** Bytes of the update document that would be sent (0 when none). */
  bytes: number;
  /** Key paths the update changes (`a.b`). */
  paths: string[];
  /** The same paths by the name of the rule that decides each (the last rule setting it). */
  pathsByRule: Map<string, string[]>;
}

/** Merges merge documents in order: objects key by key, anything else (null included) replaced by the later one. */
export function mergeFragments(fragments: readonly JsonObject[]): JsonObject {
  const out: JsonObject = {};
  const into = (target: JsonObject, src: JsonObject): void => {
    for (const key of Object.keys(src)) {
      const v = src[key]!;
      const cur = Object.hasOwn(target, key) ? target[key] : undefined;
      if (isPlainObject(v) && isPlainObject(cur)) into(cur, v);
      else setOwn(target, key, isPlainObject(v) ? mergeFragments([v]) : v);
    }
  };
  for (const f of fragments) into(out, f);
  return out;
}

/** True when `fragment` decides the value at `path`: it holds a leaf at the path or above it. */
function decides(fragment: JsonObject, path: readonly string[]): boolean {
  let node: unknown = fragment;
  for (const key of path) {
    if (!isPlainObject(node)) return true;
    if (!Object.hasOwn(node, key)) return false;
    node = node[key];
  }
  return true;
}

/**
 * The rules of `rules` (in file order) that apply to one shadow: same shadow, selected
 * (`selected(rule)`: the thing is in the rule's selection), and whose `where` holds on the
 * document just read.
 */
export function applyingRules(
  rules: readonly FleetRule[],
  shadowName: string | undefined,
  doc: ShadowDocument | undefined,
  selected: (rule: FleetRule) => boolean,
): FleetRule[] {
  return rules.filter(
    (r) => r.shadowName === shadowName && selected(r) && (r.where === undefined || r.where.matches(doc)),
  );
}

/** Plans one shadow from the document just read (undefined: no shadow yet) and the rules that apply to it. */
export function planShadow(doc: ShadowDocument | undefined, rules: readonly FleetRule[]): ShadowPlan {
  const merged = mergeFragments(rules.map((r) => r.desired));
  const current = doc?.state.desired;
  const required = mergeState(current, merged);
  const update = diffToUpdate(current, required ?? {});
  const plan: ShadowPlan = { merged, required, update, bytes: 0, paths: [], pathsByRule: new Map() };
  if (update === undefined) return plan;
  plan.bytes = Buffer.byteLength(stringifyJson({ state: { desired: update }, version: doc?.version ?? 0 }));
  for (const { path } of leafPaths(update)) {
    const text = formatKeyPath(path);
    plan.paths.push(text);
    let owner: FleetRule | undefined;
    for (let i = rules.length - 1; i >= 0 && owner === undefined; i--)
      if (decides(rules[i]!.desired, path)) owner = rules[i];
    const name = owner?.name ?? '(none)';
    const list = plan.pathsByRule.get(name);
    if (list === undefined) plan.pathsByRule.set(name, [text]);
    else list.push(text);
  }
  return plan;
}
