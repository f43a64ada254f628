import { describe, expect, test } from 'vitest';
import { spawn } from 'node:child_process';
import { appendFile, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Journal, loadCompleted, readJournal, specHash } from '../../src/engine/journal.js';
import type { ItemResult } from '../../src/engine/task-types.js';

function result(thingName: string, outcome: ItemResult['outcome'], shadowName?: string): ItemResult {
  const r: ItemResult = { thingName, outcome, attempts: 1, requests: 2, throttles: 0, latencyMs: 1, bytesSent: 10 };
  if (shadowName !== undefined) r.shadowName = shadowName;
  return r;
}

async function tmp(): Promise<string> {
  return join(await mkdtemp(join(tmpdir(), 'sf-journal-')), 'run.journal');
}

describe('Journal', () => {
  test('writes a header with the spec hash, then one line per result', async () => {
    const path = await tmp();
    const j = await Journal.open(path, { kind: 'rollout', spec: { desired: { a: 1 } } });
    j.append(result('t-1', 'written'));
    j.append(result('t-2', 'unchanged', 'cfg'));
    await j.close();
    const lines = (await readFile(path, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({
      journal: 'shadowfleet',
      version: 1,
      kind: 'rollout',
      specHash: specHash({ desired: { a: 1 } }),
    });
    expect(lines.slice(1).map((l) => l.thingName)).toEqual(['t-1', 't-2']);
  });

  test('the spec hash does not depend on key order', () => {
    expect(specHash({ a: 1, b: { c: 2, d: 3 } })).toBe(specHash({ b: { d: 3, c: 2 }, a: 1 }));
    expect(specHash({ a: 1 })).not.toBe(specHash({ a: 2 }));
  });

  test('a torn last line (a kill -9 mid-write) is skipped on read and a resumed journal starts on a fresh line', async () => {
    const path = await tmp();
    const j = await Journal.open(path, { kind: 'rollout', spec: 's1' });
    j.append(result('t-1', 'written'));
    await j.close();
    await appendFile(path, '{"thingName":"t-2","outc');
    const done = await loadCompleted(path);
    expect([...done]).toEqual(['t-1']);
    const r = await Journal.open(path, { kind: 'rollout', spec: 's1', resume: true });
    r.append(result('t-3', 'written'));
    await r.close();
    const seen: string[] = [];
    const { header, torn } = await readJournal(path, (x) => seen.push(x.thingName));
    expect(seen).toEqual(['t-1', 't-3']);
    expect(torn).toBe(1);
    expect(header?.specHash).toBe(specHash('s1'));
  });

  test('resuming with a different spec is refused', async () => {
    const path = await tmp();
    await (await Journal.open(path, { kind: 'rollout', spec: { v: 1 } })).close();
    await expect(Journal.open(path, { kind: 'rollout', spec: { v: 2 }, resume: true })).rejects.toThrow(
      '--resume needs the same spec',
    );
  });

  test('loadCompleted keys things and named shadows apart and retries failed items by default', async () => {
    const path = await tmp();
    const j = await Journal.open(path, { kind: 'rollout', spec: 1 });
    j.append(result('a', 'written'));
    j.append(result('a', 'written', 'cfg'));
    j.append(result('b', 'failed'));
    j.append(result('c', 'failed'));
    j.append(result('c', 'rebased'));
    await j.close();
    expect([...(await loadCompleted(path))].sort()).toEqual(['a', 'a/cfg', 'c']);
    expect([...(await loadCompleted(path, { retryFailed: false }))].sort()).toEqual(['a', 'a/cfg', 'b', 'c']);
  });

  test('results are flushed in batches without waiting for close', async () => {
    const path = await tmp();
    const j = await Journal.open(path, { kind: 'rollout', spec: 1, flushIntervalMs: 5 });
    for (let i = 0; i < 100; i++) j.append(result(`t-${i}`, 'written'));
    // Wait for the state (the timer's flush landed), not a fixed 50 ms a loaded machine may overrun.
    let completed = (await loadCompleted(path)).size;
    while (completed < 100) {
      await new Promise((r) => setTimeout(r, 5));
      completed = (await loadCompleted(path)).size;
    }
    expect(completed).toBe(100);
    await j.close();
  });

  test('a writer killed with SIGKILL mid-run leaves a journal that reads back and resumes', async () => {
    const path = await tmp();
    const script = join(path, '..', 'writer.mts');
    const journalModule = pathToFileURL(join(process.cwd(), 'src/engine/journal.ts')).href;
    await writeFile(
      script,
      `import { Journal } from ${JSON.stringify(journalModule)};
const j = await Journal.open(process.argv[2], { kind: 'rollout', spec: 'k9', flushIntervalMs: 1, flushBytes: 512 });
console.log('open');
for (let i = 0; ; i++) {
  j.append({ thingName: 'k-' + i, outcome: 'written', attempts: 1, requests: 2, throttles: 0, latencyMs: 1, bytesSent: 40, detail: { pad: 'x'.repeat(200) } });
  if (i % 50 === 0) await new Promise((r) => setImmediate(r));
}
`,
    );
    const child = spawn(process.execPath, ['--import', 'tsx', script, path], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise((r) => child.once('exit', r));
    await Promise.race([new Promise<void>((resolve) => child.stdout!.once('data', () => resolve())), exited]);
    // Killed once the writer has flushed results (a state), not after a fixed 300 ms in which a
    // loaded machine may have flushed nothing yet.
    let flushed = 0;
    while (flushed === 0) {
      await new Promise((r) => setTimeout(r, 10));
      flushed = 0;
      await readJournal(path, () => (flushed += 1));
    }
    child.kill('SIGKILL');
    await exited;
    const seen = new Set<string>();
    const { header, torn } = await readJournal(path, (r) => seen.add(r.thingName));
    expect(header?.specHash).toBe(specHash('k9'));
    expect(torn).toBeLessThanOrEqual(1);
    expect(seen.size).toBeGreaterThan(0);
    const j = await Journal.open(path, { kind: 'rollout', spec: 'k9', resume: true });
    j.append(result('after', 'written'));
    await j.close();
    const done = await loadCompleted(path);
    expect(done.size).toBe(seen.size + 1);
  });
  test('a write that fails (file-size limit, like a full disk) is reported at once through onError, and the journal still reads back and resumes', async () => {
    const path = await tmp();
    const script = join(path, '..', 'filler.mts');
    const journalModule = pathToFileURL(join(process.cwd(), 'src/engine/journal.ts')).href;
    // Appends until an append throws; says how many appends were made and when onError fired.
    await writeFile(
      script,
      `import { Journal } from ${JSON.stringify(journalModule)};
let appended = 0;
let reportedAt;
let reported;
const j = await Journal.open(process.argv[2], { kind: 'rollout', spec: 'fill', flushIntervalMs: 1, onError: (e) => { reportedAt = appended; reported = e.message; } });
let thrown;
for (let i = 0; i < 100000 && thrown === undefined; i++) {
  try {
    j.append({ thingName: 'f-' + i, outcome: 'written', attempts: 1, requests: 2, throttles: 0, latencyMs: 1, bytesSent: 40 });
    appended += 1;
  } catch (e) {
    thrown = e.message;
  }
  if (i % 20 === 0) await new Promise((r) => setTimeout(r, 2));
}
const closed = await j.close().then(() => 'closed', (e) => e.message);
console.log(JSON.stringify({ appended, reportedAt, reported, thrown, closed }));
`,
    );
    const child = spawn(
      'bash',
      ['-c', 'ulimit -f 8 && exec "$@"', 'bash', process.execPath, '--import', 'tsx', script, path],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    expect(await new Promise((r) => child.once('exit', r))).toBe(0);
    const r = JSON.parse(out) as {
      appended: number;
      reportedAt?: number;
      reported?: string;
      thrown?: string;
      closed: string;
    };
    expect(r.reported).toMatch(/journal write failed \(EFBIG\): the run stops after the work in flight/);
    // Reported by the failed write itself (an append only ever throws a failure already seen).
    expect(r.reportedAt).toBeDefined();
    expect(r.thrown).toBe(r.reported);
    expect(r.closed).toBe(r.reported);
    const seen: string[] = [];
    const { header, torn } = await readJournal(path, (x) => seen.push(x.thingName));
    expect(header?.specHash).toBe(specHash('fill'));
    expect(torn).toBeLessThanOrEqual(1);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.length).toBeLessThan(r.appended);
    expect(seen).toEqual(seen.map((_, i) => `f-${i}`));
    const j = await Journal.open(path, { kind: 'rollout', spec: 'fill', resume: true });
    j.append(result('after', 'written'));
    await j.close();
    expect((await loadCompleted(path)).size).toBe(seen.length + 1);
  });
});
