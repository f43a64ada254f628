import fc from 'fast-check';
import { LosslessNumber } from 'lossless-json';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/errors.js';
import {
  assertStorableNumbers,
  documentJson,
  findUnstorableNumber,
  isExactNumber,
  jsonNumbersEqual,
  mayLosePrecision,
  parseJson,
  stringifyJson,
} from '../../src/shadow/json-text.js';

const BIG = '12345678901234567891';
const FINE = '0.1000000000000000055511151231257827';

/**
 * The exact decimal value a JSON number text denotes, as `sign digits e exponent` with no
 * leading or trailing zeros in the digits: an oracle written apart from the code under test.
 */
function decimalValue(text: string): string {
  const m = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (m === null) throw new Error(`not a JSON number: ${text}`);
  let digits = (m[2] ?? '') + (m[3] ?? '');
  let exponent = Number(m[4] ?? 0) - (m[3]?.length ?? 0);
  digits = digits.replace(/^0+/, '');
  if (digits === '') return '0';
  while (digits.endsWith('0')) {
    digits = digits.slice(0, -1);
    exponent++;
  }
  return `${m[1]}${digits}e${exponent}`;
}

/** JSON number texts of every shape: long integers, long fractions, exponents up to 999. */
const numberText = fc
  .tuple(
    fc.boolean(),
    fc.oneof(
      fc.constant('0'),
      fc
        .tuple(fc.integer({ min: 1, max: 9 }), fc.string({ unit: fc.constantFrom(...'0123456789'), maxLength: 30 }))
        .map(([d, r]) => `${d}${r}`),
    ),
    fc.option(fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: 1, maxLength: 30 }), { nil: undefined }),
    fc.option(fc.tuple(fc.constantFrom('e', 'E'), fc.constantFrom('', '+', '-'), fc.integer({ min: 0, max: 999 })), {
      nil: undefined,
    }),
  )
  .map(
    ([neg, int, frac, exp]) =>
      `${neg ? '-' : ''}${int}${frac === undefined ? '' : `.${frac}`}${exp === undefined ? '' : `${exp[0]}${exp[1]}${exp[2]}`}`,
  );

/** The shortest texts a double cannot hold: `5e400`, `-7E-350`, `1.5e+999`. */
const shortOverflow = fc
  .tuple(
    fc.constantFrom('', '-'),
    fc.integer({ min: 1, max: 9 }),
    fc.constantFrom('', '.5'),
    fc.constantFrom('e', 'E'),
    fc.constantFrom('', '+', '-'),
    fc.integer({ min: 330, max: 999 }),
  )
  .map((parts) => parts.join(''));

describe('parseJson and stringifyJson', () => {
  it('keep a big integer and a long decimal byte for byte, other numbers as plain numbers', () => {
    const text = `{"state":{"reported":{"counter":${BIG},"ratio":${FINE},"temp":21.5,"serial":"${BIG}"}}}`;
    const doc = parseJson(text) as { state: { reported: Record<string, unknown> } };
    const r = doc.state.reported;
    expect(isExactNumber(r.counter) && r.counter.value).toBe(BIG);
    expect(isExactNumber(r.ratio) && r.ratio.value).toBe(FINE);
    expect(r.temp).toBe(21.5);
    expect(r.serial).toBe(BIG);
    expect(stringifyJson(doc)).toBe(text);
  });

  it('indent like JSON.stringify, with exact numbers as their text', () => {
    const doc = parseJson(`{"a":[1,${BIG},{"b":"x"}],"c":null,"d":{}}`);
    const pretty = stringifyJson(doc, 2);
    expect(pretty).toBe(
      JSON.stringify(JSON.parse(`{"a":[1,0,{"b":"x"}],"c":null,"d":{}}`), null, 2).replace('  0,', `  ${BIG},`),
    );
  });

  it('refuse what JSON.parse refuses, with its SyntaxError, also for text holding long numbers', () => {
    for (const bad of ['{oops', `{"a":${BIG}`, `[${BIG},]`, `{"a":01234567890123456789}`, '']) {
      expect(() => parseJson(bad), bad).toThrow(SyntaxError);
    }
  });

  it('keep the last of duplicate keys, as JSON.parse does, on both paths', () => {
    expect(parseJson('{"k":1,"k":2}')).toEqual({ k: 2 });
    expect(stringifyJson(parseJson(`{"k":1,"k":${BIG},"z":0}`))).toBe(`{"k":${BIG},"z":0}`);
  });

  it('keep a __proto__ key as an own member on the exact path', () => {
    const doc = parseJson(`{"__proto__":{"x":${BIG}}}`) as Record<string, unknown>;
    expect(Object.hasOwn(doc, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(doc)).toBe(Object.prototype);
    expect(stringifyJson(doc)).toBe(`{"__proto__":{"x":${BIG}}}`);
  });

  it('write a LosslessNumber made by the caller as its text', () => {
    expect(stringifyJson({ a: new LosslessNumber('98765432109876543210') })).toBe('{"a":98765432109876543210}');
  });

  it('turn plain JSON text back into the same text (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const text = JSON.stringify(v);
        expect(stringifyJson(parseJson(text))).toBe(text);
      }),
      { numRuns: 500 },
    );
  });

  it('keep the exact value of every number in the text (property)', () => {
    fc.assert(
      fc.property(fc.array(numberText, { minLength: 1, maxLength: 6 }), (numbers) => {
        const text = `{"n":[${numbers.join(',')}],"s":"x"}`;
        const out = stringifyJson(parseJson(text));
        const written = out.slice('{"n":['.length, out.indexOf(']')).split(',');
        expect(written.map(decimalValue)).toEqual(numbers.map(decimalValue));
      }),
      { numRuns: 1000 },
    );
  });

  it('keep big integers as their text (property)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 40n), max: 10n ** 40n }), (b) => {
        const text = `{"a":${b},"b":[${b}]}`;
        expect(stringifyJson(parseJson(text))).toBe(text);
      }),
      { numRuns: 500 },
    );
  });

  it('take the plain parser only for text whose numbers a double keeps, wherever they sit (property)', () => {
    fc.assert(
      fc.property(
        fc.oneof(numberText, shortOverflow),
        fc.string({ maxLength: 9 }),
        fc.string({ unit: fc.constantFrom('1', 'e', '-', '.', 'x'), maxLength: 6 }),
        (n, pad, tail) => {
          const text = `{"p":${JSON.stringify(pad)},"n":${n},"t":${JSON.stringify(tail)}}`;
          if (mayLosePrecision(text)) return;
          const written = JSON.stringify((JSON.parse(text) as { n: number }).n);
          expect(decimalValue(written)).toBe(decimalValue(n));
        },
      ),
      { numRuns: 3000 },
    );
  });
});

describe('jsonNumbersEqual', () => {
  it('compares exact numbers by value, whatever their text', () => {
    expect(jsonNumbersEqual(new LosslessNumber(BIG), new LosslessNumber('1.2345678901234567891e19'))).toBe(true);
    expect(jsonNumbersEqual(new LosslessNumber(BIG), new LosslessNumber('12345678901234567890'))).toBe(false);
    expect(jsonNumbersEqual(new LosslessNumber('5'), 5)).toBe(true);
    expect(jsonNumbersEqual(new LosslessNumber(FINE), 0.1)).toBe(false);
  });
});

describe('numbers a shadow cannot store', () => {
  it('are found with their JSON pointer, exact or plain', () => {
    expect(findUnstorableNumber(parseJson('{"state":{"desired":{"a/b":[1,1e400]}}}'))).toEqual({
      path: '/state/desired/a~1b/1',
      text: '1e400',
    });
    expect(findUnstorableNumber({ x: Number.NaN })).toEqual({ path: '/x', text: 'NaN' });
    expect(findUnstorableNumber(parseJson(`{"tiny":1e-400,"big":${BIG}}`))).toBeUndefined();
  });

  it('make documentJson throw InvalidArgumentError naming the document and the path, before any text is made', () => {
    expect(() => documentJson({ state: { desired: { limit: Number.POSITIVE_INFINITY } } }, 'payload')).toThrow(
      InvalidArgumentError,
    );
    expect(() => documentJson(parseJson('{"state":{"desired":{"limit":-1e400}}}'), 'payload')).toThrow(
      'payload at /state/desired/limit: -1e400 is outside the range of a double',
    );
    expect(() => assertStorableNumbers(parseJson('{"a":1E+999}'), 'spec')).toThrow('spec at /a: 1E+999');
    expect(documentJson(parseJson(`{"state":{"desired":{"a":null,"b":${BIG}}}}`), 'payload')).toBe(
      `{"state":{"desired":{"a":null,"b":${BIG}}}}`,
    );
  });
});

describe('crossing threads', () => {
  it('an exact number loses its class through structuredClone, its text does not', () => {
    const doc = parseJson(`{"a":${BIG}}`);
    expect(isExactNumber((structuredClone(doc) as { a: unknown }).a)).toBe(false);
    expect(stringifyJson(parseJson(structuredClone(stringifyJson(doc))))).toBe(`{"a":${BIG}}`);
  });
});
