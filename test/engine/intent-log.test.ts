import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { IntentLog, intentLogPath, readIntents, type WriteIntent } from '../../src/engine/intent-log.js';

const dir = mkdtempSync(join(tmpdir(), 'sf-intents-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const undo = (fw: string): string =>
  JSON.stringify({ before: { keys: [{ path: ['fw'], existed: true, value: fw }] }, wrote: { fw: '2.0' } });

describe('intent log', () => {
  it('lives beside its journal', () => {
    expect(intentLogPath('/runs/r1.journal')).toBe('/runs/r1.journal.intents');
  });

  it('appends one line per write before it is sent and reads them back in order', async () => {
    const path = join(dir, 'a.intents');
    const log = new IntentLog(path);
    log.append({ thingName: 'pump-1' }, undo('1.0'));
    log.append({ thingName: 'pump-2', shadowName: 'config' }, undo('1.1'));
    // on disk at once, before any close or flush
    expect(readFileSync(path, 'utf8').split('\n').filter(Boolean)).toHaveLength(2);
    log.close();
    const seen: WriteIntent[] = [];
    expect(await readIntents(path, (i) => seen.push(i))).toBe(2);
    expect(seen).toEqual([
      { key: 'pump-1', thingName: 'pump-1', undoJson: undo('1.0') },
      { key: 'pump-2/config', thingName: 'pump-2', shadowName: 'config', undoJson: undo('1.1') },
    ]);
  });

  it('skips a torn last line and reads a missing file as empty', async () => {
    const path = join(dir, 'torn.intents');
    const log = new IntentLog(path);
    log.append({ thingName: 'pump-1' }, undo('1.0'));
    log.close();
    appendFileSync(path, '{"key":"pump-2","thingName":"pu');
    const seen: string[] = [];
    expect(await readIntents(path, (i) => seen.push(i.key))).toBe(1);
    expect(seen).toEqual(['pump-1']);
    expect(await readIntents(join(dir, 'none.intents'), () => {})).toBe(0);
  });

  it('names the file it cannot open', () => {
    const log = new IntentLog(join(dir, 'no-such-dir', 'x.intents'));
    expect(() => log.append({ thingName: 'a' }, undo('1'))).toThrow(ConfigError);
    expect(() => log.append({ thingName: 'a' }, undo('1'))).toThrow(
      /no-such-dir\/x\.intents: cannot open the intent log \(ENOENT\)/,
    );
  });
});
