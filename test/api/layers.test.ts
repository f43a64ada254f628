/**
 * The layers hold: no module of a lower layer (shadow, client, emulator, sinks, engine, report,
 * and the shared io, options, errors and version modules) imports from the jobs or the CLI, type imports
 * included; and the CLI imports nothing of the library but its public entry points (the ones
 * package.json exports); no module of src/ reaches itself again through its imports (no
 * import circle, type imports included); and main.ts sits above the commands: a command module
 * (src/cli/commands/) imports neither main.ts nor another command module. The worker threads'
 * code (workers/) sits below the jobs: it imports nothing of src/jobs/ or src/cli/, so what a
 * handler and a job both need (the shadow filter, the restore and sync updates) lives lower.
 * Read from the import statements of src/**\/*.ts and workers/**\/*.ts.
 */
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SRC = join(ROOT, 'src');
const WORKERS = join(ROOT, 'workers');
const UPPER = new Set(['jobs', 'cli']);
const LOWER = new Set([
  'shadow',
  'client',
  'emulator',
  'sinks',
  'engine',
  'report',
  'io',
  'options',
  'errors.ts',
  'version.ts',
]);
/** `from '...'`, `import '...'`, `import('...')` and `typeof import('...')`. */
const IMPORT = /(?:\bfrom\s+|\bimport\s*\(\s*|\bimport\s+)(['"])([^'"\n]+)\1/g;

async function sourceFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await sourceFiles(p)));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

interface Edge {
  /** The importing file, relative to the repository root. */
  file: string;
  specifier: string;
  /** The imported source file (relative to the root), for imports inside src. */
  target: string | undefined;
}

/** The import statements of the files under `dir` (src/ unless told). */
async function importEdges(dir = SRC): Promise<Edge[]> {
  const edges: Edge[] = [];
  for (const file of await sourceFiles(dir)) {
    const text = await readFile(file, 'utf8');
    for (const m of text.matchAll(IMPORT)) {
      const specifier = m[2]!;
      const target = specifier.startsWith('.')
        ? relative(ROOT, resolve(dirname(file), specifier)).replace(/\.js$/, '.ts')
        : undefined;
      edges.push({ file: relative(ROOT, file), specifier, target: target?.startsWith('src/') ? target : undefined });
    }
  }
  return edges;
}

/**
 * The import circles of src/: each strongly connected group of two or more files (Tarjan), or a
 * file that imports itself, as its files in order of name.
 */
function importCircles(edges: Edge[]): string[][] {
  const next = new Map<string, Set<string>>();
  for (const e of edges) {
    if (e.target === undefined) continue;
    if (!next.has(e.file)) next.set(e.file, new Set());
    next.get(e.file)!.add(e.target);
  }
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const circles: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) !== index.get(v)) return;
    const group: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      group.push(w);
    } while (w !== v);
    if (group.length > 1 || next.get(v)?.has(v)) circles.push(group.sort());
  };
  for (const v of [...next.keys()].sort()) if (!index.has(v)) visit(v);
  return circles;
}

/** `src/engine/coordinator.ts` -> `engine`; `src/errors.ts` -> `errors.ts`. */
const layerOf = (path: string): string => path.split('/')[1]!;

describe('imports between layers', () => {
  it('finds the imports it checks (the scan itself works)', async () => {
    const edges = await importEdges();
    expect(edges.find((e) => e.file === 'src/cli/bin.ts' && e.target === 'src/cli/main.ts')).toBeDefined();
    expect(edges.find((e) => e.file === 'src/index.ts' && e.target === 'src/errors.ts')).toBeDefined();
    expect(edges.some((e) => e.file === 'src/cli/main.ts' && e.specifier === 'commander')).toBe(true);
    const workerEdges = await importEdges(WORKERS);
    expect(
      workerEdges.find((e) => e.file === 'workers/handlers/restore.ts' && e.target === 'src/shadow/restore-update.ts'),
    ).toBeDefined();
  });

  it('never run from a lower layer up to the jobs or the CLI', async () => {
    const wrong = (await importEdges())
      .filter((e) => e.target !== undefined && LOWER.has(layerOf(e.file)) && UPPER.has(layerOf(e.target)))
      .map((e) => `${e.file} imports ${e.specifier} (${layerOf(e.file)} -> ${layerOf(e.target!)})`);
    expect(wrong).toEqual([]);
  });

  it('from the worker threads (workers/) never run up to the jobs or the CLI', async () => {
    const wrong = (await importEdges(WORKERS))
      .filter((e) => e.target !== undefined && UPPER.has(layerOf(e.target)))
      .map((e) => `${e.file} imports ${e.specifier} (workers -> ${layerOf(e.target!)})`);
    expect(wrong).toEqual([]);
  });

  it('from the CLI reach the library only through its public entry points', async () => {
    const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as {
      exports: Record<string, string | { default: string }>;
    };
    const publicEntries = new Set(
      Object.values(pkg.exports)
        .map((v) => (typeof v === 'string' ? v : v.default))
        .filter((p) => p.startsWith('./dist/src/'))
        .map((p) => p.replace('./dist/', '').replace(/\.js$/, '.ts')),
    );
    expect(publicEntries.has('src/index.ts')).toBe(true);
    const wrong = (await importEdges())
      .filter(
        (e) =>
          layerOf(e.file) === 'cli' &&
          e.target !== undefined &&
          layerOf(e.target) !== 'cli' &&
          !publicEntries.has(e.target),
      )
      .map((e) => `${e.file} imports ${e.specifier} (not a public entry point: ${[...publicEntries].join(', ')})`);
    expect(wrong).toEqual([]);
  });

  it('never come back to the file they start from (no import circle in src/)', async () => {
    const edges = await importEdges();
    // The check itself finds a circle: two files that import each other.
    const pair: Edge[] = [
      { file: 'src/a.ts', specifier: './b.js', target: 'src/b.ts' },
      { file: 'src/b.ts', specifier: './a.js', target: 'src/a.ts' },
      { file: 'src/b.ts', specifier: './c.js', target: 'src/c.ts' },
    ];
    expect(importCircles(pair)).toEqual([['src/a.ts', 'src/b.ts']]);
    const circles = importCircles(edges).map((group) => {
      const inside = new Set(group);
      const arrows = edges
        .filter((e) => inside.has(e.file) && e.target !== undefined && inside.has(e.target))
        .map((e) => `  ${e.file} -> ${e.target}`);
      return [`circle of ${group.length} files:`, ...new Set(arrows)].join('\n');
    });
    expect(circles).toEqual([]);
  });

  it('from a command reach neither main.ts nor another command (what they share lives in src/cli/)', async () => {
    const wrong = (await importEdges())
      .filter(
        (e) =>
          e.file.startsWith('src/cli/commands/') &&
          (e.target === 'src/cli/main.ts' || e.target?.startsWith('src/cli/commands/') === true),
      )
      .map((e) => `${e.file} imports ${e.specifier}`);
    expect(wrong).toEqual([]);
  });
});
