/**
 * diffToUpdate (fast-json-patch `compare` turned into a shadow update) against a direct
 * recursive diff written for shadows, on shadow-sized documents.
 *
 *   node --import tsx bench/micro/diff.bench.ts
 */
import { Bench } from 'tinybench';
import { diffToUpdate } from '../../src/shadow/diff.js';
import type { JsonObject, JsonValue } from '../../src/shadow/types.js';

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function equal(a: JsonValue | undefined, b: JsonValue | undefined): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!equal(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ak = Object.keys(a);
  if (ak.length !== Object.keys(b).length) return false;
  for (const k of ak) if (!Object.hasOwn(b, k) || !equal((a as JsonObject)[k], (b as JsonObject)[k])) return false;
  return true;
}

/** The alternative: one recursive walk, no JSON pointers, no clones. */
function directDiff(current: JsonObject | undefined, target: JsonObject): JsonObject | undefined {
  const base = current ?? {};
  let out: JsonObject | undefined;
  for (const k of Object.keys(base)) {
    if (!Object.hasOwn(target, k)) (out ??= {})[k] = null;
  }
  for (const k of Object.keys(target)) {
    const t = target[k] as JsonValue;
    const c = Object.hasOwn(base, k) ? base[k] : undefined;
    if (isObject(t) && isObject(c)) {
      const sub = directDiff(c, t);
      if (sub !== undefined) (out ??= {})[k] = sub;
    } else if (!equal(c, t)) {
      (out ??= {})[k] = t;
    }
  }
  return out;
}

function doc(bytes: number, seed: number): JsonObject {
  const d: JsonObject = {
    fw: '1.0.0',
    mode: 'eco',
    net: { ssid: 'plant-4', dhcp: true, dns: ['10.0.0.1', '10.0.0.2'] },
  };
  let i = 0;
  while (JSON.stringify(d).length < bytes) {
    d[`group${i}`] = {
      enabled: (i + seed) % 2 === 0,
      threshold: i * 1.5,
      label: `sensor-${i}-${seed}`,
      limits: [i, i + 1, i + 2],
    };
    i++;
  }
  return d;
}

const current2k = doc(2048, 1);
const oneKey2k = { ...structuredClone(current2k), mode: 'boost' };
const manyKeys2k = structuredClone(current2k);
for (const k of Object.keys(manyKeys2k)
  .filter((k) => k.startsWith('group'))
  .slice(0, 8)) {
  const g = manyKeys2k[k] as JsonObject;
  g.threshold = 99;
  g.limits = [9, 9];
}
const equal2k = structuredClone(current2k);
const current8k = doc(8000, 2);
const oneKey8k = { ...structuredClone(current8k), fw: '2.0.0' };

// Sanity: both produce equivalent updates.
for (const [c, t] of [
  [current2k, oneKey2k],
  [current2k, manyKeys2k],
  [current8k, oneKey8k],
] as const) {
  if (JSON.stringify(diffToUpdate(c, t)) !== JSON.stringify(directDiff(c, t))) {
    // Key order may differ; compare structurally.
    if (!equal(diffToUpdate(c, t) ?? null, directDiff(c, t) ?? null)) throw new Error('the two diffs disagree');
  }
}

const bench = new Bench({ time: Number(process.env.BENCH_TIME_MS ?? 400) });
const cases: Array<[string, JsonObject, JsonObject]> = [
  ['2 KB, one key changed', current2k, oneKey2k],
  ['2 KB, 8 groups changed', current2k, manyKeys2k],
  ['2 KB, equal', current2k, equal2k],
  ['8 KB, one key changed', current8k, oneKey8k],
];
for (const [name, c, t] of cases) {
  bench.add(`fast-json-patch: ${name}`, () => void diffToUpdate(c, t));
  bench.add(`direct: ${name}`, () => void directDiff(c, t));
}
await bench.run();
console.table(bench.table());
const hz = new Map(
  bench.tasks.map((t) => [t.name, t.result as { throughput?: { mean: number }; hz?: number } | undefined]),
);
for (const [name] of cases) {
  const a = hz.get(`fast-json-patch: ${name}`);
  const b = hz.get(`direct: ${name}`);
  const ha = a?.throughput?.mean ?? a?.hz ?? 0;
  const hb = b?.throughput?.mean ?? b?.hz ?? 0;
  console.log(
    `${name}: fast-json-patch ${Math.round(ha)} ops/s, direct ${Math.round(hb)} ops/s, direct/fjp = ${(hb / ha).toFixed(2)}x`,
  );
}
const bytesOne = JSON.stringify({ state: { desired: diffToUpdate(current2k, oneKey2k) } }).length;
console.log(
  `bytes: one-key change of a ${JSON.stringify(current2k).length} B document sends ${bytesOne} B (${((100 * bytesOne) / JSON.stringify(oneKey2k).length).toFixed(1)}%)`,
);
