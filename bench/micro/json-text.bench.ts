/**
 * The cost of exact numbers on the client's hot path: parseJson against JSON.parse on the GET
 * document the client benchmark reads, stringifyJson / documentJson against JSON.stringify on
 * the update it sends, and, for scale, the exact path on a document that holds a long number.
 *
 *   node --import tsx bench/micro/json-text.bench.ts
 */
import { Bench } from 'tinybench';
import { documentJson, parseJson, stringifyJson } from '../../src/shadow/json-text.js';

const t = 1_764_000_000;
const desired = { firmware: '2.4.1', mode: 'eco', setpoint: 21, schedule: [6, 22] };
const stamp = (v: object) => Object.fromEntries(Object.keys(v).map((k) => [k, { timestamp: t }]));
const getBody = JSON.stringify({
  state: { desired },
  metadata: { desired: { ...stamp(desired), schedule: [{ timestamp: t }, { timestamp: t }] } },
  version: 1234,
  timestamp: t,
});
const update = { state: { desired }, clientToken: 'sf-0a1b2c3d-1-42' };
const exactBody = getBody.replace('"setpoint":21', '"setpoint":12345678901234567891');
const exactDoc = parseJson(exactBody);

export async function runJsonTextBench(
  time = Number(process.env.BENCH_MS ?? 1000),
): Promise<Array<Record<string, string | number>>> {
  const bench = new Bench({ time, warmup: true });
  let sink = 0;
  bench
    .add(`JSON.parse GET body (${getBody.length} B)`, () => {
      sink += (JSON.parse(getBody) as { version: number }).version;
    })
    .add('parseJson GET body (scan, then JSON.parse)', () => {
      sink += (parseJson(getBody) as { version: number }).version;
    })
    .add('JSON.stringify update', () => {
      sink += JSON.stringify(update).length;
    })
    .add('stringifyJson update', () => {
      sink += stringifyJson(update).length;
    })
    .add('documentJson update (also refuses 1e400)', () => {
      sink += documentJson(update, 'payload').length;
    })
    .add('parseJson GET body with a 20-digit number (exact path)', () => {
      sink += (parseJson(exactBody) as { version: number }).version;
    })
    .add('stringifyJson of it (exact path)', () => {
      sink += stringifyJson(exactDoc).length;
    });
  await bench.run();
  if (sink === -1) console.log(sink);
  return bench.tasks.map((task) => {
    // Medians: the mean of a loaded machine's samples is mostly its outliers.
    const r = task.result as { latency?: { p50?: number } } | undefined;
    const ns = (r?.latency?.p50 ?? Number.NaN) * 1e6;
    return { task: task.name, 'median ns/op': Math.round(ns), 'ops/s': Math.round(1e9 / ns) };
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.table(await runJsonTextBench());
}
