import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AtomicFileWriter } from '../../src/io/atomic-file-writer.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sf-atomic-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('AtomicFileWriter', () => {
  it('leaves the old file as it was until commit, and whole after it', async () => {
    const path = join(dir, 'report.ndjson');
    await writeFile(path, 'old\n');
    const w = await AtomicFileWriter.open(path);
    w.write('new 1\n');
    w.write('new 2\n');
    await w.flush();
    expect(await readFile(path, 'utf8')).toBe('old\n');
    await w.commit();
    expect(await readFile(path, 'utf8')).toBe('new 1\nnew 2\n');
    expect(await readdir(dir)).toEqual(['report.ndjson']);
  });

  it('drops everything on abort: the old file stays and no temporary file is left', async () => {
    const path = join(dir, 'kept.ndjson');
    await writeFile(path, 'good\n');
    const w = await AtomicFileWriter.open(path);
    w.write('half');
    await w.abort();
    expect(await readFile(path, 'utf8')).toBe('good\n');
    expect((await readdir(dir)).filter((n) => n.includes('kept') && n.endsWith('.partial'))).toEqual([]);
  });

  it('removes the temporary file a killed process left beside the same report, on the next open', async () => {
    const path = join(dir, 'killed.ndjson');
    const dead = Number(
      spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout,
    );
    await writeFile(join(dir, `.killed.ndjson.${dead}.partial`), 'half');
    const w = await AtomicFileWriter.open(path);
    expect((await readdir(dir)).filter((n) => n.startsWith('.killed.ndjson.'))).toEqual([
      `.killed.ndjson.${process.pid}.partial`,
    ]);
    await w.abort();
  });
});
