/**
 * One side of the snapshot benchmark in its own process, so each side's peak RSS is its own:
 *
 *   node --import tsx bench/snapshot/side-child.ts '{"side":"shadowfleet"|"baseline","url":..,"things":FILE,"out":DIR}'
 *
 * Prints one JSON line: { side, things, shadows, elapsedMs, shadowsPerSecond, peakRssBytes, bytes }.
 *
 * The baseline is written the way a careful user writes it with the AWS SDK v3 today:
 * `@aws-sdk/client-iot-data-plane`, p-limit(64) over things; per thing GetThingShadow (classic),
 * ListNamedShadowsForThing (paged) and GetThingShadow per named shadow; each shadow a JSON line
 * through gzip into a file, waiting for 'drain'.
 */
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import {
  GetThingShadowCommand,
  IoTDataPlaneClient,
  ListNamedShadowsForThingCommand,
} from '@aws-sdk/client-iot-data-plane';
import pLimit from 'p-limit';
import { runSnapshot } from '../../src/jobs/snapshot/snapshot.js';

interface SideArgs {
  side: 'shadowfleet' | 'baseline';
  url: string;
  things: string;
  out: string;
  workers?: number;
}

const CREDENTIALS = { accessKeyId: 'AKIDBENCHLOCAL', secretAccessKey: 'bench-local-secret' };
const args = JSON.parse(process.argv[2] ?? '{}') as SideArgs;
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

async function readNames(file: string): Promise<string[]> {
  const names: string[] = [];
  for await (const line of createInterface({ input: createReadStream(file) })) if (line !== '') names.push(line);
  return names;
}

async function baseline(): Promise<{ things: number; shadows: number; bytes: number }> {
  const client = new IoTDataPlaneClient({ endpoint: args.url, region: 'us-east-1', credentials: CREDENTIALS });
  const names = await readNames(args.things);
  await mkdir(args.out, { recursive: true });
  const gzip = createGzip();
  gzip.setMaxListeners(0); // 64 writers may wait for 'drain' at once
  const file = join(args.out, 'shadows.jsonl.gz');
  const done = pipeline(gzip, createWriteStream(file));
  let shadows = 0;
  const write = async (thing: string, shadow: string | null, payload: Uint8Array | undefined): Promise<void> => {
    const doc = JSON.parse(Buffer.from(payload!).toString('utf8'));
    const line = `${JSON.stringify({ thing, shadow, version: doc.version, state: { desired: doc.state?.desired, reported: doc.state?.reported }, metadata: doc.metadata, timestamp: doc.timestamp })}\n`;
    shadows += 1;
    if (!gzip.write(line)) await once(gzip, 'drain');
  };
  const limit = pLimit(64);
  await Promise.all(
    names.map((thingName) =>
      limit(async () => {
        try {
          const r = await client.send(new GetThingShadowCommand({ thingName }));
          await write(thingName, null, r.payload);
        } catch (err) {
          if ((err as { name?: string }).name !== 'ResourceNotFoundException') throw err;
        }
        let nextToken: string | undefined;
        do {
          const page = await client.send(
            new ListNamedShadowsForThingCommand({ thingName, pageSize: 100, ...(nextToken ? { nextToken } : {}) }),
          );
          for (const shadowName of page.results ?? []) {
            const r = await client.send(new GetThingShadowCommand({ thingName, shadowName }));
            await write(thingName, shadowName, r.payload);
          }
          nextToken = page.nextToken;
        } while (nextToken);
      }),
    ),
  );
  gzip.end();
  await done;
  client.destroy();
  return { things: names.length, shadows, bytes: (await stat(file)).size };
}

async function ours(): Promise<{ things: number; shadows: number; bytes: number }> {
  const r = await runSnapshot({
    endpoint: args.url,
    things: args.things,
    out: args.out,
    rates: 'off',
    credentials: CREDENTIALS,
    ...(args.workers ? { workers: args.workers } : {}),
  });
  if (r.failed > 0)
    throw new Error(`${r.failed} things failed: ${JSON.stringify(r.manifest.failures.items.slice(0, 3))}`);
  return { things: r.things, shadows: r.records, bytes: r.manifest.data.bytes };
}

const started = performance.now();
const r = args.side === 'baseline' ? await baseline() : await ours();
const elapsedMs = performance.now() - started;
process.stdout.write(
  `${JSON.stringify({ side: args.side, ...r, elapsedMs: Math.round(elapsedMs), shadowsPerSecond: Math.round(r.shadows / (elapsedMs / 1000)), peakRssBytes: process.resourceUsage().maxRSS * 1024 })}\n`,
);
