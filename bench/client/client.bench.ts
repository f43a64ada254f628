/**
 * IotDataClient against @aws-sdk/client-iot-data-plane, same emulator (own process, quotas off),
 * same concurrency, same run: ops/s and client CPU per operation (process.cpuUsage of this
 * process divided by ops) for GetThingShadow and UpdateThingShadow, with the ratios.
 *
 *   node --import tsx bench/client/client.bench.ts        (BENCH_SECONDS=5, BENCH_CONCURRENCY=64)
 */
import http from 'node:http';
import { IotDataClient } from '../../src/client/index.js';
import { startEmulatorProcess, type EmulatorProcess } from '../../src/emulator/index.js';

export interface ClientBenchOptions {
  /** Seconds per measured phase. Default $BENCH_SECONDS or 5. */
  seconds?: number;
  /** Requests in flight. Default $BENCH_CONCURRENCY or 64. */
  concurrency?: number;
  /** Distinct things the requests spread over. Default 256. */
  things?: number;
  /** Use this emulator instead of spawning one. */
  endpoint?: string;
  /** Print the table and JSON. Default true. */
  print?: boolean;
}

export interface ClientBenchRow {
  operation: 'GetThingShadow' | 'UpdateThingShadow';
  client: 'shadowfleet' | 'aws-sdk';
  ops: number;
  errors: number;
  opsPerSec: number;
  cpuUsPerOp: number;
}

export interface ClientBenchResult {
  seconds: number;
  concurrency: number;
  rows: ClientBenchRow[];
  ratios: Record<'GetThingShadow' | 'UpdateThingShadow', { opsPerSec: number; cpuPerOp: number }>;
  goal: { opsPerSecAtLeast: number; cpuPerOpAtMost: number; met: boolean };
}

const CREDS = { accessKeyId: 'AKIDBENCH', secretAccessKey: 'bench-secret' };
const REGION = 'us-east-1';

async function race(
  seconds: number,
  concurrency: number,
  op: (i: number) => Promise<unknown>,
): Promise<{ ops: number; errors: number; elapsedMs: number; cpuUs: number }> {
  let ops = 0;
  let errors = 0;
  let i = 0;
  // Warm-up: connections, JIT.
  const warmEnd = Date.now() + Math.min(1000, seconds * 200);
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < warmEnd) await op(i++).catch(() => undefined);
    }),
  );
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const end = Date.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < end) {
        try {
          await op(i++);
          ops++;
        } catch {
          errors++;
        }
      }
    }),
  );
  const elapsedMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { ops, errors, elapsedMs, cpuUs: cpu.user + cpu.system };
}

export async function runClientBench(opts: ClientBenchOptions = {}): Promise<ClientBenchResult> {
  const seconds = opts.seconds ?? Number(process.env.BENCH_SECONDS ?? 5);
  const concurrency = opts.concurrency ?? Number(process.env.BENCH_CONCURRENCY ?? 64);
  const things = opts.things ?? 256;
  const print = opts.print ?? true;
  let emulator: EmulatorProcess | undefined;
  let url = opts.endpoint;
  if (url === undefined) ({ url } = emulator = await startEmulatorProcess({ quotas: 'off' }));
  const ours = new IotDataClient({
    endpoint: url,
    region: REGION,
    credentials: CREDS,
    connections: concurrency,
    retry: { maxAttempts: 1 },
  });
  const { IoTDataPlaneClient, GetThingShadowCommand, UpdateThingShadowCommand } = await import(
    '@aws-sdk/client-iot-data-plane'
  );
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const sdk = new IoTDataPlaneClient({
    endpoint: url,
    region: REGION,
    credentials: CREDS,
    maxAttempts: 1,
    requestHandler: { httpAgent: agent },
  });
  const names = Array.from({ length: things }, (_, k) => `bench-${String(k).padStart(5, '0')}`);
  const doc = (i: number) => ({
    state: { desired: { firmware: '2.4.1', mode: 'eco', setpoint: 20 + (i % 5), schedule: [6, 22] } },
  });
  try {
    await Promise.all(names.map((thingName, k) => ours.updateThingShadow({ thingName, payload: doc(k) })));
    const rows: ClientBenchRow[] = [];
    const phases: Array<[ClientBenchRow['operation'], ClientBenchRow['client'], (i: number) => Promise<unknown>]> = [
      ['GetThingShadow', 'shadowfleet', (i) => ours.getThingShadow({ thingName: names[i % things]! })],
      [
        'GetThingShadow',
        'aws-sdk',
        async (i) => {
          const out = await sdk.send(new GetThingShadowCommand({ thingName: names[i % things]! }));
          return JSON.parse(new TextDecoder().decode(out.payload));
        },
      ],
      [
        'UpdateThingShadow',
        'shadowfleet',
        (i) => ours.updateThingShadow({ thingName: names[i % things]!, payload: doc(i) }),
      ],
      [
        'UpdateThingShadow',
        'aws-sdk',
        async (i) => {
          const out = await sdk.send(
            new UpdateThingShadowCommand({
              thingName: names[i % things]!,
              payload: new TextEncoder().encode(JSON.stringify(doc(i))),
            }),
          );
          return JSON.parse(new TextDecoder().decode(out.payload));
        },
      ],
    ];
    for (const [operation, client, op] of phases) {
      const r = await race(seconds, concurrency, op);
      rows.push({
        operation,
        client,
        ops: r.ops,
        errors: r.errors,
        opsPerSec: Math.round((r.ops * 1000) / r.elapsedMs),
        cpuUsPerOp: Number((r.cpuUs / Math.max(1, r.ops)).toFixed(1)),
      });
    }
    const pick = (op: ClientBenchRow['operation'], c: ClientBenchRow['client']) =>
      rows.find((r) => r.operation === op && r.client === c)!;
    const ratio = (op: ClientBenchRow['operation']) => ({
      opsPerSec: Number((pick(op, 'shadowfleet').opsPerSec / Math.max(1, pick(op, 'aws-sdk').opsPerSec)).toFixed(2)),
      cpuPerOp: Number((pick(op, 'shadowfleet').cpuUsPerOp / Math.max(0.1, pick(op, 'aws-sdk').cpuUsPerOp)).toFixed(3)),
    });
    const ratios = { GetThingShadow: ratio('GetThingShadow'), UpdateThingShadow: ratio('UpdateThingShadow') };
    const met = Object.values(ratios).every((r) => r.opsPerSec >= 3 && r.cpuPerOp <= 0.25);
    const result: ClientBenchResult = {
      seconds,
      concurrency,
      rows,
      ratios,
      goal: { opsPerSecAtLeast: 3, cpuPerOpAtMost: 0.25, met },
    };
    if (print) {
      console.table(
        rows.map((r) => ({
          operation: r.operation,
          client: r.client,
          'ops/s': r.opsPerSec,
          'CPU us/op': r.cpuUsPerOp,
          ops: r.ops,
          errors: r.errors,
        })),
      );
      console.table(
        Object.entries(ratios).map(([op, r]) => ({
          operation: op,
          'ops/s ratio (ours/sdk)': r.opsPerSec,
          'CPU/op ratio (ours/sdk)': r.cpuPerOp,
        })),
      );
      console.log(JSON.stringify({ bench: 'client', ...result }));
    }
    return result;
  } finally {
    sdk.destroy();
    agent.destroy();
    await ours.close();
    await emulator?.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await runClientBench();
}
