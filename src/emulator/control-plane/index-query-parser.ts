import { ControlPlaneFault } from './control-plane-fault.js';

/**
 * A parsed fleet indexing query (the subset of AWS's Lucene-like syntax the emulator serves;
 * control-plane reference §7). Precedence is NOT > AND > OR with implicit AND, which the
 * reference recommends since AWS documents none (UNCONFIRMED).
 */
export type IndexQuery =
  | { readonly kind: 'all' }
  | { readonly kind: 'and'; readonly nodes: readonly IndexQuery[] }
  | { readonly kind: 'or'; readonly nodes: readonly IndexQuery[] }
  | { readonly kind: 'not'; readonly node: IndexQuery }
  /** `field:value`; `*` and `?` are wildcards unless quoted; a lone `*` means "field exists". */
  | { readonly kind: 'term'; readonly field: string; readonly value: string; readonly quoted: boolean }
  /** `field:[a TO b]`, `{a TO b}`, mixed, `field<v`, `field>=v`; an absent bound is open. */
  | { readonly kind: 'range'; readonly field: string; readonly lower?: RangeBound; readonly upper?: RangeBound };

export interface RangeBound {
  readonly value: string;
  readonly quoted: boolean;
  readonly inclusive: boolean;
}

/** AWS limits on a query ([DG:query-syntax]): 12 terms; one leading-wildcard term and then at most 100 characters. */
export const INDEX_QUERY_LIMITS = Object.freeze({
  maxTerms: 12,
  maxLeadingWildcardTerms: 1,
  maxLeadingWildcardQueryLength: 100,
});

type Tok =
  | { t: 'word'; v: string; quoted: boolean; at: number }
  | { t: '(' | ')' | '[' | ']' | '{' | '}' | ':' | '-'; at: number }
  | { t: 'cmp'; v: '<' | '>' | '<=' | '>='; at: number }
  | { t: 'end'; at: number };

/** Characters AWS's guide lists as unsupported (outside quotes); `,` only in geo queries. */
const UNSUPPORTED = new Set(['`', '@', '#', '%', '\\', '/', "'", ';', ',']);
const PUNCT = new Set(['(', ')', '[', ']', '{', '}', ':']);

function tokenize(text: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (UNSUPPORTED.has(c))
      throw ControlPlaneFault.invalidQuery(`Unsupported character '${c}' at position ${i} of the query`);
    if (PUNCT.has(c)) {
      out.push({ t: c as '(', at: i });
      i++;
      continue;
    }
    if (c === '<' || c === '>') {
      const eq = text[i + 1] === '=';
      out.push({ t: 'cmp', v: (eq ? `${c}=` : c) as '<', at: i });
      i += eq ? 2 : 1;
      continue;
    }
    // A '-' starts an exclusion, except in a value such as `:-5` or `<-5`.
    const prev = out[out.length - 1]?.t;
    if (c === '-' && prev !== ':' && prev !== 'cmp' && !/[0-9.]/.test(text[i + 1] ?? '')) {
      out.push({ t: '-', at: i });
      i++;
      continue;
    }
    if (c === '"') {
      const end = text.indexOf('"', i + 1);
      if (end < 0)
        throw ControlPlaneFault.invalidQuery(`Unterminated quoted value starting at position ${i} of the query`);
      out.push({ t: 'word', v: text.slice(i + 1, end), quoted: true, at: i });
      i = end + 1;
      continue;
    }
    let j = i;
    while (
      j < text.length &&
      !/\s/.test(text[j]!) &&
      !PUNCT.has(text[j]!) &&
      text[j] !== '<' &&
      text[j] !== '>' &&
      text[j] !== '"'
    ) {
      if (UNSUPPORTED.has(text[j]!))
        throw ControlPlaneFault.invalidQuery(`Unsupported character '${text[j]}' at position ${j} of the query`);
      j++;
    }
    out.push({ t: 'word', v: text.slice(i, j), quoted: false, at: i });
    i = j;
  }
  out.push({ t: 'end', at: text.length });
  return out;
}

const KEYWORDS = new Set(['AND', 'OR', 'NOT', 'TO']);
const CLASSIC_SECTIONS = new Set(['desired', 'reported', 'delta']);
const FIXED_FIELDS = new Set([
  'thingName',
  'thingId',
  'thingTypeName',
  'thingGroupNames',
  'shadow.hasDelta',
  'connectivity.connected',
  'connectivity.timestamp',
  'connectivity.disconnectReason',
]);

/** Fields of AWS_Things the emulator indexes; anything else is refused by name. */
function checkField(field: string): void {
  if (FIXED_FIELDS.has(field)) return;
  const parts = field.split('.');
  if (parts.some((p) => p === '')) throw ControlPlaneFault.invalidQuery(`Invalid field name '${field}'`);
  if (parts[0] === 'attributes' && parts.length >= 2) return;
  if (parts[0] === 'shadow') {
    if (CLASSIC_SECTIONS.has(parts[1]!) && parts.length >= 3) return;
    if (parts[1] === 'name' && parts.length >= 4) {
      if (parts[3] === 'hasDelta' && parts.length === 4) return;
      if (CLASSIC_SECTIONS.has(parts[3]!) && parts.length >= 5) return;
    }
  }
  throw ControlPlaneFault.invalidQuery(
    `Field '${field}' is not supported by this index (supported: thingName, thingId, thingTypeName, thingGroupNames, attributes.*, shadow.desired|reported|delta.*, shadow.hasDelta, shadow.name.NAME.desired|reported|delta.*, connectivity.connected|timestamp|disconnectReason)`,
  );
}

class Parser {
  readonly #toks: Tok[];
  #pos = 0;
  terms = 0;
  leadingWildcards = 0;

  constructor(toks: Tok[]) {
    this.#toks = toks;
  }

  get peek(): Tok {
    return this.#toks[this.#pos]!;
  }

  next(): Tok {
    return this.#toks[this.#pos++]!;
  }

  isKeyword(tok: Tok, kw: string): boolean {
    return tok.t === 'word' && !tok.quoted && tok.v === kw;
  }

  describe(tok: Tok): string {
    if (tok.t === 'end') return 'the end of the query';
    if (tok.t === 'word') return `'${tok.quoted ? `"${tok.v}"` : tok.v}' at position ${tok.at}`;
    if (tok.t === 'cmp') return `'${tok.v}' at position ${tok.at}`;
    return `'${tok.t}' at position ${tok.at}`;
  }

  fail(what: string): never {
    throw ControlPlaneFault.invalidQuery(`${what}, found ${this.describe(this.peek)}`);
  }

  /** or := and ('OR' and)* */
  or(field?: string): IndexQuery {
    const nodes = [this.and(field)];
    while (this.isKeyword(this.peek, 'OR')) {
      this.next();
      nodes.push(this.and(field));
    }
    return nodes.length === 1 ? nodes[0]! : { kind: 'or', nodes };
  }

  /** and := unary (['AND'] unary)*: implicit AND when another clause follows. */
  and(field?: string): IndexQuery {
    const nodes = [this.unary(field)];
    for (;;) {
      const tok = this.peek;
      if (this.isKeyword(tok, 'AND')) {
        this.next();
        nodes.push(this.unary(field));
      } else if (
        tok.t === '(' ||
        tok.t === '-' ||
        (tok.t === 'word' && !(this.isKeyword(tok, 'OR') || this.isKeyword(tok, 'TO')))
      ) {
        nodes.push(this.unary(field));
      } else break;
    }
    return nodes.length === 1 ? nodes[0]! : { kind: 'and', nodes };
  }

  /** unary := ('NOT' | '-') unary | primary */
  unary(field?: string): IndexQuery {
    const tok = this.peek;
    if (this.isKeyword(tok, 'NOT') || tok.t === '-') {
      this.next();
      return { kind: 'not', node: this.unary(field) };
    }
    return this.primary(field);
  }

  /** primary := '(' or ')' | clause (or, inside a field group, a value) */
  primary(field?: string): IndexQuery {
    const tok = this.peek;
    if (tok.t === '(') {
      this.next();
      const inner = this.or(field);
      if (this.peek.t !== ')') this.fail("Expected ')'");
      this.next();
      return inner;
    }
    if (field !== undefined) return this.value(field);
    return this.clause();
  }

  /** clause := '*' | FIELD ':' value | FIELD CMP scalar */
  clause(): IndexQuery {
    const tok = this.next();
    if (tok.t !== 'word' || tok.quoted || KEYWORDS.has(tok.v)) {
      this.#pos--;
      this.fail('Expected a field term such as thingName:abc');
    }
    if (tok.v === '*' && this.peek.t !== ':') return { kind: 'all' };
    const after = this.peek;
    if (after.t === 'cmp') {
      checkField(tok.v);
      this.next();
      const bound = this.scalar();
      this.terms++;
      const b: RangeBound = { value: bound.v, quoted: bound.quoted, inclusive: after.v.length === 2 };
      return after.v[0] === '<' ? { kind: 'range', field: tok.v, upper: b } : { kind: 'range', field: tok.v, lower: b };
    }
    if (after.t !== ':') {
      throw ControlPlaneFault.invalidQuery(
        `Terms without a field are not supported: '${tok.v}' at position ${tok.at} (write field:value, e.g. thingName:${tok.v})`,
      );
    }
    checkField(tok.v);
    this.next();
    const v = this.peek;
    if (v.t === '(') {
      this.next();
      const inner = this.or(tok.v);
      if (this.peek.t !== ')') this.fail("Expected ')'");
      this.next();
      return inner;
    }
    return this.value(tok.v);
  }

  /** value := range | scalar, for a known field. */
  value(field: string): IndexQuery {
    const tok = this.peek;
    if (tok.t === '[' || tok.t === '{') return this.range(field);
    const s = this.scalar();
    this.terms++;
    if (!s.quoted) {
      if (s.v.includes(',')) throw ControlPlaneFault.invalidQuery(`Geo queries are not supported: '${s.v}'`);
      if (s.v.length > 1 && (s.v[0] === '*' || s.v[0] === '?')) this.leadingWildcards++;
    }
    return { kind: 'term', field, value: s.v, quoted: s.quoted };
  }

  range(field: string): IndexQuery {
    const open = this.next();
    const lo = this.scalar();
    if (!this.isKeyword(this.peek, 'TO')) this.fail("Expected 'TO' in a range");
    this.next();
    const hi = this.scalar();
    const close = this.next();
    if (close.t !== ']' && close.t !== '}') {
      this.#pos--;
      this.fail("Expected ']' or '}' closing a range");
    }
    this.terms++;
    const bound = (s: { v: string; quoted: boolean }, inclusive: boolean): RangeBound | undefined =>
      !s.quoted && s.v === '*' ? undefined : { value: s.v, quoted: s.quoted, inclusive };
    const lower = bound(lo, open.t === '[');
    const upper = bound(hi, close.t === ']');
    return { kind: 'range', field, ...(lower ? { lower } : {}), ...(upper ? { upper } : {}) };
  }

  scalar(): { v: string; quoted: boolean } {
    const tok = this.peek;
    if (tok.t !== 'word' || (!tok.quoted && KEYWORDS.has(tok.v))) this.fail('Expected a value');
    this.next();
    return { v: (tok as { v: string }).v, quoted: (tok as { quoted: boolean }).quoted };
  }
}

/**
 * Parses a fleet indexing query for AWS_Things with a small recursive-descent parser:
 *
 *   query   := or
 *   or      := and ('OR' and)*
 *   and     := unary (['AND'] unary)*
 *   unary   := ('NOT' | '-') unary | primary
 *   primary := '(' or ')' | '*' | FIELD ':' value | FIELD ':' '(' or-of-values ')' | FIELD CMP scalar
 *   value   := ('[' | '{') scalar 'TO' scalar (']' | '}') | scalar
 *
 * Anything outside this subset (bare terms, unknown fields, geo, regex, fuzzy and the
 * characters AWS lists as unsupported) throws InvalidQueryException naming the part.
 */
export function parseIndexQuery(text: string): IndexQuery {
  if (typeof text !== 'string' || text.trim() === '') throw ControlPlaneFault.invalidQuery('The query string is empty');
  const p = new Parser(tokenize(text));
  const q = p.or();
  if (p.peek.t !== 'end') p.fail('Unexpected text after the query');
  if (p.terms > INDEX_QUERY_LIMITS.maxTerms) {
    throw ControlPlaneFault.invalidQuery(
      `The query has ${p.terms} terms; at most ${INDEX_QUERY_LIMITS.maxTerms} are allowed`,
    );
  }
  if (p.leadingWildcards > INDEX_QUERY_LIMITS.maxLeadingWildcardTerms) {
    throw ControlPlaneFault.invalidQuery(
      `At most ${INDEX_QUERY_LIMITS.maxLeadingWildcardTerms} term with a leading wildcard is allowed per query`,
    );
  }
  if (p.leadingWildcards > 0 && text.length > INDEX_QUERY_LIMITS.maxLeadingWildcardQueryLength) {
    throw ControlPlaneFault.invalidQuery(
      `A query with a leading wildcard can be at most ${INDEX_QUERY_LIMITS.maxLeadingWildcardQueryLength} characters long`,
    );
  }
  return q;
}
