import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { readJournal } from '../../src/engine/journal.js';

describe('readJournal validates every line', () => {
  test('refuses, with file and line, an entry of unknown outcome or a bad thing name', async () => {
    const header = JSON.stringify({
      journal: 'shadowfleet',
      version: 1,
      kind: 'rollout',
      specHash: 'x',
      createdAt: new Date(0).toISOString(),
    });
    const ok = JSON.stringify({
      thingName: 't-1',
      outcome: 'written',
      attempts: 1,
      requests: 2,
      throttles: 0,
      latencyMs: 1,
      bytesSent: 10,
    });
    const cases: Array<[string, RegExp]> = [
      [
        JSON.stringify({
          thingName: 't-2',
          outcome: 'teleported',
          attempts: 1,
          requests: 1,
          throttles: 0,
          latencyMs: 1,
          bytesSent: 0,
        }),
        /:3: unknown outcome "teleported"/,
      ],
      [JSON.stringify({ thingName: 'bad name!', outcome: 'written' }), /:3: bad thingName "bad name!"/],
    ];
    for (const [i, [line, message]] of cases.entries()) {
      const path = join(await mkdtemp(join(tmpdir(), 'sf-journal-')), `bad-${i}.journal`);
      await writeFile(path, `${header}\n${ok}\n${line}\n${ok}\n`);
      const err = await readJournal(path, () => undefined).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toContain(path);
      expect((err as Error).message).toMatch(message);
    }
  });

  test('still reads a journal whose last line was cut short by a kill -9', async () => {
    const path = join(await mkdtemp(join(tmpdir(), 'sf-journal-')), 'torn.journal');
    const ok = JSON.stringify({
      thingName: 't-1',
      outcome: 'written',
      attempts: 1,
      requests: 2,
      throttles: 0,
      latencyMs: 1,
      bytesSent: 10,
    });
    await writeFile(path, `${ok}\n{"thingName":"t-2","outc`);
    const seen: string[] = [];
    const { torn } = await readJournal(path, (r) => seen.push(r.thingName));
    expect(seen).toEqual(['t-1']);
    expect(torn).toBe(1);
  });
});
