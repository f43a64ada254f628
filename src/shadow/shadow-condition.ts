import jsep from 'jsep';
import { InvalidArgumentError } from '../errors.js';
import { compareVersions, isDottedVersion } from './compare-versions.js';
import type { ShadowDocument } from './types.js';

// Word operators on jsep's shared parser, registered once per process (jsep keeps one table).
// Precedences below jsep's `||` (1) and `&&` (2) would break `a or b and c`; these match them.
jsep.addBinaryOp('or', 1);
jsep.addBinaryOp('and', 2);
jsep.addUnaryOp('not');

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Value = Json | undefined;
/** What a compiled node evaluates to, from the sections of one shadow document. */
type Getter = (doc: Sections) => Value;
type Test = (doc: Sections) => boolean;

interface Sections {
  desired: Value;
  reported: Value;
  delta: Value;
  version: Value;
}

/** Where a path may start: the sections of the document just read (metadata is not offered). */
const ROOTS = new Set(['desired', 'reported', 'delta', 'version']);
const COMPARISONS = new Set(['==', '!=', '<', '<=', '>', '>=']);

function fail(source: string, what: string): never {
  throw new InvalidArgumentError(`where: ${what} in ${JSON.stringify(source)}`);
}

/** Renders a node back for messages (paths and literals; anything else by type). */
function show(node: jsep.Expression): string {
  switch (node.type) {
    case 'Identifier':
      return (node as jsep.Identifier).name;
    case 'Literal':
      return String((node as jsep.Literal).raw);
    case 'MemberExpression': {
      const m = node as jsep.MemberExpression;
      return m.computed ? `${show(m.object)}[${show(m.property)}]` : `${show(m.object)}.${show(m.property)}`;
    }
    default:
      return node.type;
  }
}

/** Own-property lookup only: a path can never reach a prototype (`__proto__`, `constructor`). */
function step(v: Value, key: string | number): Value {
  if (v === null || v === undefined || typeof v !== 'object') return undefined;
  if (Array.isArray(v)) return typeof key === 'number' ? v[key] : undefined;
  return typeof key === 'string' && Object.hasOwn(v, key) ? v[key] : undefined;
}

function deepEqual(a: Value, b: Value): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) return a.length === (b as Json[]).length && a.every((x, i) => deepEqual(x, (b as Json[])[i]));
  const ka = Object.keys(a);
  const bo = b as Record<string, Json>;
  return (
    ka.length === Object.keys(bo).length &&
    ka.every((k) => Object.hasOwn(bo, k) && deepEqual((a as Record<string, Json>)[k], bo[k]))
  );
}

/**
 * Orders two values: numbers numerically, two dotted versions (`1.4.10`, `1.5`) by version,
 * other strings by code point; anything else (a missing path, mixed types, objects) does not
 * compare and makes `<`, `<=`, `>`, `>=` false.
 */
function order(a: Value, b: Value): number | undefined {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') {
    if (isDottedVersion(a) && isDottedVersion(b)) return compareVersions(a, b);
    return a < b ? -1 : a > b ? 1 : 0;
  }
  return undefined;
}

/** Compiles a path (`reported.a.b`, `desired["x-y"][0]`, `version`) into a getter. */
function path(source: string, node: jsep.Expression): Getter {
  if (node.type === 'Identifier') {
    const name = (node as jsep.Identifier).name;
    if (!ROOTS.has(name))
      fail(source, `unknown name '${name}' (paths start with desired., reported., delta. or are version)`);
    return (d) => d[name as keyof Sections];
  }
  if (node.type !== 'MemberExpression') fail(source, `expected a path such as reported.firmware, found ${show(node)}`);
  const m = node as jsep.MemberExpression;
  let key: string | number;
  if (!m.computed) key = (m.property as jsep.Identifier).name;
  else {
    const p = m.property;
    const v = p.type === 'Literal' ? (p as jsep.Literal).value : undefined;
    if (typeof v !== 'string' && !(typeof v === 'number' && Number.isInteger(v) && v >= 0))
      fail(source, `a [] key must be a string or an index, found ${show(p)}`);
    key = v as string | number;
  }
  const parent = path(source, m.object);
  return (d) => step(parent(d), key);
}

/** An operand of a comparison: a literal (numbers may be negative) or a path. */
function operand(source: string, node: jsep.Expression): Getter {
  if (node.type === 'Literal') {
    const v = (node as jsep.Literal).value;
    if (v instanceof RegExp) fail(source, `regular expressions are not supported (${show(node)})`);
    return () => v as Json;
  }
  if (node.type === 'UnaryExpression' && (node as jsep.UnaryExpression).operator === '-') {
    const arg = (node as jsep.UnaryExpression).argument;
    if (arg.type === 'Literal' && typeof (arg as jsep.Literal).value === 'number') {
      const v = -((arg as jsep.Literal).value as number);
      return () => v;
    }
    fail(source, `'-' applies only to a number, found -${show(arg)}`);
  }
  if (node.type === 'BinaryExpression' && !COMPARISONS.has((node as jsep.BinaryExpression).operator)) {
    fail(
      source,
      `operator '${(node as jsep.BinaryExpression).operator}' is not supported (use ==, !=, <, <=, >, >=, and, or, not)`,
    );
  }
  return path(source, node);
}

/** Compiles a condition node into a test, allowing only the node types listed here. */
function test(source: string, node: jsep.Expression): Test {
  switch (node.type) {
    case 'BinaryExpression': {
      const b = node as jsep.BinaryExpression;
      const op = b.operator;
      if (op === 'and' || op === '&&' || op === 'or' || op === '||') {
        const l = test(source, b.left);
        const r = test(source, b.right);
        return op === 'and' || op === '&&' ? (d) => l(d) && r(d) : (d) => l(d) || r(d);
      }
      if (!COMPARISONS.has(op))
        fail(source, `operator '${op}' is not supported (use ==, !=, <, <=, >, >=, and, or, not)`);
      const l = operand(source, b.left);
      const r = operand(source, b.right);
      const ordered =
        (accept: (o: number) => boolean): Test =>
        (d) => {
          const o = order(l(d), r(d));
          return o !== undefined && accept(o);
        };
      switch (op) {
        case '==':
          return (d) => deepEqual(l(d), r(d));
        case '!=':
          return (d) => !deepEqual(l(d), r(d));
        case '<':
          return ordered((o) => o < 0);
        case '<=':
          return ordered((o) => o <= 0);
        case '>':
          return ordered((o) => o > 0);
        default:
          return ordered((o) => o >= 0);
      }
    }
    case 'UnaryExpression': {
      const u = node as jsep.UnaryExpression;
      if (u.operator !== 'not' && u.operator !== '!') fail(source, `operator '${u.operator}' is not supported here`);
      const inner = test(source, u.argument);
      return (d) => !inner(d);
    }
    case 'CallExpression': {
      const c = node as jsep.CallExpression;
      const callee = c.callee.type === 'Identifier' ? (c.callee as jsep.Identifier).name : show(c.callee);
      if (callee !== 'exists') fail(source, `unknown function '${callee}' (only exists(path) is offered)`);
      if (c.arguments.length !== 1) fail(source, `exists takes one path, got ${c.arguments.length} arguments`);
      const get = path(source, c.arguments[0]!);
      return (d) => {
        const v = get(d);
        return v !== undefined && v !== null;
      };
    }
    case 'Literal': {
      const v = (node as jsep.Literal).value;
      if (typeof v === 'boolean') return () => v;
      return fail(source, `a condition cannot be the value ${show(node)} alone; compare it with a path`);
    }
    case 'Compound':
      return fail(source, 'expected one condition; is an operator missing, or a trailing word such as and/or?');
    default:
      return fail(
        source,
        `${node.type === 'Identifier' || node.type === 'MemberExpression' ? `a path alone (${show(node)}) is not a condition; write exists(${show(node)}) or compare it` : `${node.type} is not supported`}`,
      );
  }
}

/**
 * A `where` condition over the shadow document just read, e.g.
 * `reported.firmware < "1.5.0" and reported.model == "x"`, `exists(desired.cfg)`,
 * `not (delta.mode == "eco" or version > 40)`.
 *
 * Parsed by jsep (a small, widely used parser that only builds an AST and never evaluates),
 * then compiled once into closures from an allow-list of node types: paths into `desired`,
 * `reported`, `delta` and `version`; string, number, boolean and null literals; `==`, `!=`,
 * `<`, `<=`, `>`, `>=`; `and`/`&&`, `or`/`||`, `not`/`!`; `exists(path)`. No eval, no
 * `new Function`, no property access beyond own JSON keys. Comparisons of two dotted versions
 * are version-aware (`"1.10.0" > "1.9.3"`); a missing path matches nothing but `!=` and `not`.
 */
export class ShadowCondition {
  readonly source: string;
  readonly #test: Test;

  constructor(source: string) {
    if (typeof source !== 'string' || source.trim() === '')
      throw new InvalidArgumentError('where: expected a condition such as reported.firmware < "1.5.0"');
    let ast: jsep.Expression;
    try {
      ast = jsep(source);
    } catch (err) {
      const e = err as { description?: string; index?: number; message?: string };
      throw new InvalidArgumentError(
        `where: ${e.description ?? e.message ?? String(err)}${e.index !== undefined ? ` at character ${e.index}` : ''} in ${JSON.stringify(source)}`,
        { cause: err },
      );
    }
    this.source = source;
    this.#test = test(source, ast);
  }

  /** True when the document (as GetThingShadow returns it) meets the condition; undefined means "no shadow". */
  matches(doc: Pick<ShadowDocument, 'state' | 'version'> | undefined): boolean {
    const state = doc?.state;
    return this.#test({
      desired: state?.desired as Value,
      reported: state?.reported as Value,
      delta: state?.delta as Value,
      version: doc?.version,
    });
  }
}
