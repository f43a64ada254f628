/**
 * Client CPU per operation on the two paths the engine's handlers take most in a sync into an
 * empty account: a GetThingShadow answered 404, and an UpdateThingShadow of text the handler
 * serialized itself. Against an emulator in its own process (its CPU is not counted), with an
 * afterAttempt hook like the engine's rate gate; rounds interleave the modes and the median of
 * the rounds is printed.
 *
 *   node --import tsx bench/micro/client-paths.bench.ts
 *   CLIENT_SRC=/path/to/other/checkout/src node --import tsx bench/micro/client-paths.bench.ts
 *
 * CLIENT_SRC measures another checkout's client (e.g. the previous commit) with the same
 * driver; modes that checkout lacks are left out. BENCH_MODES (a regular expression on the
 * mode names), BENCH_ROUNDS (7), BENCH_OPS per mode and round (3000), BENCH_CONCURRENCY (16).
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startEmulatorProcess } from '../../src/emulator/index.js';
import { documentJson } from '../../src/shadow/json-text.js';

const SRC = process.env.CLIENT_SRC ?? resolve(import.meta.dirname, '../../src');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const OPS = Number(process.env.BENCH_OPS ?? 3000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);

type Client = {
  getThingShadow(ref: { thingName: string }): Promise<unknown>;
  getThingShadowIfExists?(ref: { thingName: string }): Promise<unknown>;
  updateThingShadowRaw(input: { thingName: string; payload: string }): Promise<unknown>;
  close(): Promise<void>;
};

async function cpuPerOp(op: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const run = async (): Promise<void> => {
    while (next < OPS) await op(next++);
  };
  const cpu0 = process.cpuUsage();
  await Promise.all(Array.from({ length: CONCURRENCY }, run));
  const cpu = process.cpuUsage(cpu0);
  return (cpu.user + cpu.system) / OPS;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

/** An update document as a sync handler writes it (no version: a 409 would cost an error in every mode). */
function updateText(bytes: number, i: number): string {
  const desired: Record<string, unknown> = { firmware: '2.4.1', mode: 'eco', setpoint: 20 + (i % 5) };
  for (let k = 0; JSON.stringify(desired).length < bytes - 120; k++)
    desired[`key${k}`] = { on: k % 2 === 0, level: k * 1.5, label: `zone-${k}` };
  return documentJson({ state: { desired }, clientToken: `sf-sync-bench-${i}` }, 'bench');
}

const { IotDataClient } = (await import(pathToFileURL(`${SRC}/client/index.ts`).href)) as {
  IotDataClient: new (o: object) => Client;
};
const internal = (await import(pathToFileURL(`${SRC}/client/iot-data-client.ts`).href)) as {
  updateSerializedShadow?: (c: Client, input: { thingName: string; payload: string }) => Promise<unknown>;
};

const emulator = await startEmulatorProcess({ quotas: 'off' });
let seen = 0;
let errors = 0;
const client = new IotDataClient({
  endpoint: emulator.url,
  region: 'us-east-1',
  credentials: { accessKeyId: 'AKIDBENCH', secretAccessKey: 'bench-secret' },
  connections: CONCURRENCY,
  retry: { maxAttempts: 1 },
  // As the engine's gate: looks at every attempt's outcome.
  hooks: {
    afterAttempt: (_op: string, _ref: unknown, o: { error?: { code: string } }) => {
      if (o.error?.code === 'SHADOW_ERR_THROTTLED') seen++;
    },
  },
});
const texts = { small: Array.from({ length: 64 }, (_, i) => updateText(600, i)) };
const large = Array.from({ length: 64 }, (_, i) => updateText(6000, i));
const things = Array.from({ length: 256 }, (_, k) => `bench-${String(k).padStart(5, '0')}`);
let missing = 0;

const modes: Array<[string, (i: number) => Promise<unknown>]> = [
  [
    'get 404: getThingShadow + catch',
    (_i) =>
      client.getThingShadow({ thingName: `absent-${missing++}` }).catch((e: { code?: string }) => {
        if (e.code !== 'SHADOW_ERR_NOT_FOUND') throw e;
      }),
  ],
];
if (client.getThingShadowIfExists !== undefined)
  modes.push([
    'get 404: getThingShadowIfExists',
    (_i) => client.getThingShadowIfExists!({ thingName: `absent-${missing++}` }),
  ]);
modes.push(
  [
    'update 600 B: updateThingShadowRaw',
    (i) => client.updateThingShadowRaw({ thingName: things[i % 256]!, payload: texts.small[i % 64]! }),
  ],
  [
    'update 6 KB: updateThingShadowRaw',
    (i) => client.updateThingShadowRaw({ thingName: things[i % 256]!, payload: large[i % 64]! }),
  ],
);
const ser = internal.updateSerializedShadow;
if (ser !== undefined) {
  modes.push(
    [
      'update 600 B: updateSerializedShadow',
      (i) => ser(client, { thingName: things[i % 256]!, payload: texts.small[i % 64]! }),
    ],
    [
      'update 6 KB: updateSerializedShadow',
      (i) => ser(client, { thingName: things[i % 256]!, payload: large[i % 64]! }),
    ],
  );
}

// BENCH_MODES: a regular expression the measured modes' names must match.
const only = process.env.BENCH_MODES === undefined ? undefined : new RegExp(process.env.BENCH_MODES);
if (only !== undefined) modes.splice(0, modes.length, ...modes.filter(([name]) => only.test(name)));

try {
  // Warm-up: sockets, JIT, and the things the updates write.
  for (const [, op] of modes) await Promise.all(Array.from({ length: 200 }, (_, i) => op(i).catch(() => undefined)));
  const samples = new Map<string, number[]>(modes.map(([name]) => [name, []]));
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 === 0 ? modes : [...modes].reverse();
    for (const [name, op] of order)
      samples.get(name)!.push(
        await cpuPerOp((i) =>
          op(i).catch(() => {
            errors++;
          }),
        ),
      );
  }
  const rows = modes.map(([name]) => {
    const xs = samples.get(name)!;
    return {
      mode: name,
      'CPU us/op (median)': Number(median(xs).toFixed(1)),
      min: Number(Math.min(...xs).toFixed(1)),
      max: Number(Math.max(...xs).toFixed(1)),
    };
  });
  console.table(rows);
  console.log(
    JSON.stringify({
      bench: 'client-paths',
      src: SRC,
      rounds: ROUNDS,
      ops: OPS,
      concurrency: CONCURRENCY,
      rows,
      errors,
      seen,
    }),
  );
} finally {
  await client.close();
  await emulator.close();
}
