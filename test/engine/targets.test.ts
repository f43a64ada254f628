import { describe, expect, test } from 'vitest';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { readTargets, splitCsvLine, type TargetProblem } from '../../src/engine/targets.js';
import type { TargetItem } from '../../src/engine/task-types.js';

async function collect(it: AsyncIterable<TargetItem>): Promise<TargetItem[]> {
  const out: TargetItem[] = [];
  for await (const x of it) out.push(x);
  return out;
}

async function file(text: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sf-targets-'));
  const p = join(dir, 'things.txt');
  await writeFile(p, text);
  return p;
}

describe('readTargets', () => {
  test('reads one thing name per line, skipping blank lines and # comments', async () => {
    const p = await file('# fleet A\npump-1\n\n  pump-2  \r\n# done\npump:3\n');
    expect(await collect(readTargets({ path: p }))).toEqual([
      { thingName: 'pump-1' },
      { thingName: 'pump-2' },
      { thingName: 'pump:3' },
    ]);
  });

  test('reads CSV with a thingName column, a shadow column and extra columns as data', async () => {
    const p = await file('site,thingName,shadow\n"Lyon, FR",pump-1,config\nParis,pump-2,\n');
    expect(await collect(readTargets({ path: p, shadowName: 'dflt' }))).toEqual([
      { thingName: 'pump-1', shadowName: 'config', data: { site: 'Lyon, FR' } },
      { thingName: 'pump-2', shadowName: 'dflt', data: { site: 'Paris' } },
    ]);
  });

  test('accepts thing and name as the CSV name column', async () => {
    expect(await collect(readTargets({ path: await file('thing\na-1\n') }))).toEqual([{ thingName: 'a-1' }]);
    expect(await collect(readTargets({ path: await file('name,x\na-2,1\n') }))).toEqual([
      { thingName: 'a-2', data: { x: '1' } },
    ]);
  });

  test('reads JSON lines with a name field, keeping scalar fields as data', async () => {
    const p = await file('{"thingName":"t-1","fw":2,"nested":{"a":1}}\n# c\n{"thing":"t-2","shadowName":"cfg"}\n');
    expect(await collect(readTargets({ path: p }))).toEqual([
      { thingName: 't-1', data: { fw: '2' } },
      { thingName: 't-2', shadowName: 'cfg' },
    ]);
  });

  test('reports bad names with file and line and skips them', async () => {
    const p = await file('ok-1\nbad name\n# x\nok/2\nok-3\n');
    const problems: TargetProblem[] = [];
    const items = await collect(readTargets({ path: p, onInvalid: (q) => problems.push(q) }));
    expect(items.map((i) => i.thingName)).toEqual(['ok-1', 'ok-3']);
    expect(problems.map((q) => `${q.file}:${q.line}`)).toEqual([`${p}:2`, `${p}:4`]);
    expect(problems[0]!.message).toContain("Value 'bad name' at 'thingName' failed to satisfy constraint");
  });

  test('without onInvalid a bad name throws an error naming file and line', async () => {
    const p = await file('{"thingName":"a"}\n{"thingName":"b c"}\n');
    await expect(collect(readTargets({ path: p }))).rejects.toThrow(`${p}:2: bad thing name`);
    const q = await file('{"x":1}\n');
    await expect(collect(readTargets({ path: q }))).rejects.toThrow(`${q}:1: no thingName, thing or name field`);
  });

  test('a CSV header without a name column is refused', async () => {
    const p = await file('a,b\n1,2\n');
    await expect(collect(readTargets({ path: p }))).rejects.toThrow(
      `${p}:1: the CSV header needs a thingName, thing or name column`,
    );
  });

  test("reads '-' from the given input stream (stdin)", async () => {
    const input = Readable.from(['s-1\ns-', '2\n']);
    expect(await collect(readTargets({ path: '-', input }))).toEqual([{ thingName: 's-1' }, { thingName: 's-2' }]);
  });

  test('streams: the first items arrive before the input ends', async () => {
    const input = new Readable({ read() {} });
    const it = readTargets({ path: '-', input })[Symbol.asyncIterator]();
    input.push('first\n');
    expect((await it.next()).value).toEqual({ thingName: 'first' });
    input.push(null);
    expect((await it.next()).done).toBe(true);
  });

  test('splits CSV lines with quotes and doubled quotes', () => {
    expect(splitCsvLine('a,"b,c","d""e", f ')).toEqual(['a', 'b,c', 'd"e', 'f']);
  });
});
