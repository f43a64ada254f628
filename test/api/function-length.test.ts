/**
 * No function in src/ or workers/ is longer than 120 lines: function declarations, methods,
 * constructors, accessors, arrow functions and function expressions (callbacks included), each
 * counted from the line it starts on to the line it ends on. A nested function counts on its own,
 * and the function around it counts it too, since a reader reads both. Read with the TypeScript
 * compiler's parser, so strings, comments and template literals cannot fool the count.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DIRS = ['src', 'workers'];
const MAX_LINES = 120;

async function sourceFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await sourceFiles(p)));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

interface FunctionSpan {
  /** The file, relative to the repository root. */
  file: string;
  /** 1-based line the function starts on. */
  line: number;
  name: string;
  lines: number;
}

function isFunctionLike(node: ts.Node): node is ts.SignatureDeclaration & { body?: ts.Node } {
  return (
    ts.isFunctionDeclaration(node) ||
    ts.isMethodDeclaration(node) ||
    ts.isArrowFunction(node) ||
    ts.isFunctionExpression(node) ||
    ts.isConstructorDeclaration(node) ||
    ts.isGetAccessorDeclaration(node) ||
    ts.isSetAccessorDeclaration(node)
  );
}

/** The name a reader would look for: the declared name, or what an anonymous function is assigned to or passed to. */
function functionName(node: ts.SignatureDeclaration, sf: ts.SourceFile): string {
  if (ts.isConstructorDeclaration(node)) return 'constructor';
  if (node.name) return node.name.getText(sf);
  const parent = node.parent;
  if (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent)) {
    return parent.name.getText(sf);
  }
  if (ts.isCallExpression(parent)) return `<callback of ${parent.expression.getText(sf)}>`;
  return '<anonymous>';
}

function functionSpans(file: string, text: string): FunctionSpan[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const spans: FunctionSpan[] = [];
  const visit = (node: ts.Node): void => {
    // A signature without a body (an overload, an abstract or interface method) has nothing to read.
    if (isFunctionLike(node) && node.body) {
      const start = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line;
      const end = sf.getLineAndCharacterOfPosition(node.getEnd()).line;
      spans.push({ file: relative(ROOT, file), line: start + 1, name: functionName(node, sf), lines: end - start + 1 });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return spans;
}

async function allFunctionSpans(): Promise<FunctionSpan[]> {
  const spans: FunctionSpan[] = [];
  for (const dir of DIRS) {
    for (const file of await sourceFiles(join(ROOT, dir))) {
      spans.push(...functionSpans(file, await readFile(file, 'utf8')));
    }
  }
  return spans;
}

describe('function length', () => {
  it('finds the functions of every kind, nested ones included, in a sample source', () => {
    const sample = [
      'export function outer() {', // 1
      '  const inner = () => {', // 2
      '    return 1;', // 3
      '  };', // 4
      '  [1].map(function (x) { return x; });', // 5
      '  return inner();', // 6
      '}', // 7
      'class C {', // 8
      '  constructor() {}', // 9
      '  get size() { return 0; }', // 10
      '  set size(v: number) {}', // 11
      '  method(): void {', // 12
      '  }', // 13
      '  abstractLike(): void;', // 14
      '}', // 15
    ].join('\n');
    const spans = functionSpans(join(ROOT, 'src/sample.ts'), sample).map((s) => `${s.line} ${s.name} ${s.lines}`);
    expect(spans).toEqual([
      '1 outer 7',
      '2 inner 3',
      '5 <callback of [1].map> 1',
      '9 constructor 1',
      '10 size 1',
      '11 size 1',
      '12 method 2',
    ]);
  });

  it(`keeps every function in src/ and workers/ within ${MAX_LINES} lines`, async () => {
    const spans = await allFunctionSpans();
    expect(spans.length).toBeGreaterThan(100);
    const tooLong = spans
      .filter((s) => s.lines > MAX_LINES)
      .sort((a, b) => b.lines - a.lines)
      .map((s) => `${s.file}:${s.line} ${s.name} (${s.lines} lines)`);
    expect(tooLong).toEqual([]);
  });
});
