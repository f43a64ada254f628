/**
 * Importing shadowfleet loads no AWS SDK module: the S3 client and lib-storage, the credential
 * providers and the IoT control plane client are imported inside the functions that use them.
 * Each entry is imported in a fresh Node process; two records are checked: the URLs the ESM
 * loader resolved (a resolve hook) and the CommonJS module cache (the SDK packages are CommonJS,
 * so their own requires show only there).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const HOOK = fileURLToPath(new URL('./record-resolved-modules.mjs', import.meta.url));
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shadowfleet-imports-'));
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Runs `code` (an ES module body) in a fresh `node --import tsx` and returns every module it loaded. */
async function modulesLoadedBy(code: string, name: string): Promise<string[]> {
  const log = join(dir, `${name}.log`);
  const script = `${code}
const { default: Module } = await import('node:module');
process.stdout.write(JSON.stringify(Object.keys(Module._cache)));`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--import', HOOK, '--input-type=module', '-e', script], {
    cwd: ROOT,
    env: { ...process.env, SHADOWFLEET_RESOLVED_LOG: log },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const code_ = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code_ !== 0) throw new Error(`the import exited with ${code_}: ${err}`);
  const resolved = (await readFile(log, 'utf8')).split('\n').filter(Boolean);
  const required = (JSON.parse(out) as string[]).map((p) => pathToFileURL(p).href);
  return [...new Set([...resolved, ...required])];
}

const awsSdk = (urls: string[]): string[] => urls.filter((u) => u.includes('/node_modules/@aws-sdk/'));
const entry = (path: string): string => JSON.stringify(pathToFileURL(join(ROOT, path)).href);

describe('loading the public entry points', () => {
  it('sees an AWS SDK module when one is loaded (the check itself works)', async () => {
    const loaded = await modulesLoadedBy(
      `const { loadS3Sdk } = await import(${entry('src/sinks/s3-client.ts')}); await loadS3Sdk();`,
      'control',
    );
    expect(awsSdk(loaded)).toContainEqual(expect.stringContaining('/@aws-sdk/client-s3/'));
  });

  for (const path of [
    'src/index.ts',
    'src/client/index.ts',
    'src/input.ts',
    'src/engine/queue/index.ts',
    'src/emulator/index.ts',
    'src/cli/main.ts',
  ]) {
    it(`loads no @aws-sdk module when ${path} is imported`, async () => {
      const loaded = await modulesLoadedBy(`await import(${entry(path)});`, path.replaceAll('/', '-'));
      expect(loaded.some((u) => u.endsWith(path))).toBe(true);
      expect(awsSdk(loaded)).toEqual([]);
    });
  }

  it('loads no package but commander for --help: the CLI starts on shadowfleet/input alone', async () => {
    const run = `const { main } = await import(${entry('src/cli/main.ts')});
const { Writable } = await import('node:stream');
const quiet = new Writable({ write: (_c, _e, cb) => cb() });
if ((await main(['--help'], { stdout: quiet, stderr: quiet })) !== 0) throw new Error('--help failed');`;
    const loaded = await modulesLoadedBy(run, 'cli-packages');
    const packages = new Set(
      loaded
        .flatMap((u) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(u)?.[1] ?? [])
        .filter((p) => p !== 'tsx' && p !== 'esbuild' && p !== 'get-tsconfig' && p !== 'resolve-pkg-maps'),
    );
    expect([...packages]).toEqual(['commander']);
  });
});
