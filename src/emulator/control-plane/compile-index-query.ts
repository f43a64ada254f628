import type { IndexQuery, RangeBound } from './index-query-parser.js';

/** A simple indexed value: strings, numbers, booleans (nulls and objects are not indexed). */
export type IndexValue = string | number | boolean;

/** An indexed thing: each field path (`attributes.site`, `shadow.reported.firmware`) and its values (arrays give several). */
export type IndexDocument = ReadonlyMap<string, readonly IndexValue[]>;

export type IndexPredicate = (doc: IndexDocument) => boolean;

/** A JSON number literal: what AWS indexes as a number when it appears in a string attribute. */
const NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

function asNumber(v: IndexValue): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && NUMBER.test(v)) return Number(v);
  return undefined;
}

const escapeRegex = (s: string): string => s.replace(/[.+^${}()|[\]\\]/g, '\\$&');

/** A term's value test: case-insensitive, `*`/`?` wildcards, numeric equality for numbers, word match for text. */
function termTest(value: string, quoted: boolean): (v: IndexValue) => boolean {
  const lower = value.toLowerCase();
  if (!quoted && /[*?]/.test(value)) {
    const re = new RegExp(`^${escapeRegex(lower).replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 's');
    return (v) => {
      const s = String(v).toLowerCase();
      return re.test(s) || (/\s/.test(s) && s.split(/\s+/).some((w) => re.test(w)));
    };
  }
  const n = !quoted && NUMBER.test(value) ? Number(value) : undefined;
  return (v) => {
    if (n !== undefined) {
      const vn = asNumber(v);
      if (vn !== undefined) return vn === n;
    }
    const s = String(v).toLowerCase();
    if (s === lower) return true;
    // AWS splits text values into words (on whitespace) and matches a term against each word.
    return !quoted && /\s/.test(s) && s.split(/\s+/).includes(lower);
  };
}

/** A range test: numeric when both the value and every given bound are numbers, otherwise lexicographic. */
function rangeTest(lower: RangeBound | undefined, upper: RangeBound | undefined): (v: IndexValue) => boolean {
  const numeric = [lower, upper].every((b) => b === undefined || (!b.quoted && NUMBER.test(b.value)));
  const ln = lower !== undefined && numeric ? Number(lower.value) : undefined;
  const un = upper !== undefined && numeric ? Number(upper.value) : undefined;
  const ls = lower?.value.toLowerCase();
  const us = upper?.value.toLowerCase();
  return (v) => {
    if (typeof v === 'boolean') return false;
    if (numeric) {
      const n = asNumber(v);
      if (n === undefined) return false;
      if (ln !== undefined && (lower!.inclusive ? n < ln : n <= ln)) return false;
      if (un !== undefined && (upper!.inclusive ? n > un : n >= un)) return false;
      return true;
    }
    if (typeof v !== 'string') return false;
    const s = v.toLowerCase();
    if (ls !== undefined && (lower!.inclusive ? s < ls : s <= ls)) return false;
    if (us !== undefined && (upper!.inclusive ? s > us : s >= us)) return false;
    return true;
  };
}

/**
 * Compiles a parsed query once into a predicate over index documents; evaluating it per
 * thing allocates nothing but the lowered strings of the values it looks at.
 */
export function compileIndexQuery(query: IndexQuery): IndexPredicate {
  switch (query.kind) {
    case 'all':
      return () => true;
    case 'and': {
      const parts = query.nodes.map(compileIndexQuery);
      return (doc) => parts.every((p) => p(doc));
    }
    case 'or': {
      const parts = query.nodes.map(compileIndexQuery);
      return (doc) => parts.some((p) => p(doc));
    }
    case 'not': {
      const inner = compileIndexQuery(query.node);
      return (doc) => !inner(doc);
    }
    case 'term': {
      const field = query.field;
      if (!query.quoted && query.value === '*') return (doc) => (doc.get(field)?.length ?? 0) > 0;
      const test = termTest(query.value, query.quoted);
      return (doc) => doc.get(field)?.some(test) ?? false;
    }
    case 'range': {
      const field = query.field;
      const test = rangeTest(query.lower, query.upper);
      return (doc) => doc.get(field)?.some(test) ?? false;
    }
  }
}

/** The fields a query reads, so an index entry loads only the shadows it needs. */
export function indexQueryFields(query: IndexQuery, into: Set<string> = new Set()): Set<string> {
  switch (query.kind) {
    case 'and':
    case 'or':
      for (const n of query.nodes) indexQueryFields(n, into);
      break;
    case 'not':
      indexQueryFields(query.node, into);
      break;
    case 'term':
    case 'range':
      into.add(query.field);
      break;
  }
  return into;
}
