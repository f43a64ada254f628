/**
 * The layers hold: no module of a lower layer (shadow, client, emulator, sinks, engine, report,
 * and the shared io, options, errors and version modules) imports from the jobs or the CLI, type imports
 * included; and the CLI imports nothing of the library but its public entry points (the ones
 * package.json exports). Read from the import statements of src/**\/*.ts.
 */
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SRC = join(ROOT, 'src');
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

async function importEdges(): Promise<Edge[]> {
  const edges: Edge[] = [];
  for (const file of await sourceFiles(SRC)) {
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

/** `src/engine/coordinator.ts` -> `engine`; `src/errors.ts` -> `errors.ts`. */
const layerOf = (path: string): string => path.split('/')[1]!;

describe('imports between layers', () => {
  it('finds the imports it checks (the scan itself works)', async () => {
    const edges = await importEdges();
    expect(edges.find((e) => e.file === 'src/cli/bin.ts' && e.target === 'src/cli/main.ts')).toBeDefined();
    expect(edges.find((e) => e.file === 'src/index.ts' && e.target === 'src/errors.ts')).toBeDefined();
    expect(edges.some((e) => e.file === 'src/cli/main.ts' && e.specifier === 'commander')).toBe(true);
  });

  it('never run from a lower layer up to the jobs or the CLI', async () => {
    const wrong = (await importEdges())
      .filter((e) => e.target !== undefined && LOWER.has(layerOf(e.file)) && UPPER.has(layerOf(e.target)))
      .map((e) => `${e.file} imports ${e.specifier} (${layerOf(e.file)} -> ${layerOf(e.target!)})`);
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
});
