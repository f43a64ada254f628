import { LosslessNumber } from 'lossless-json';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/errors.js';
import {
  ShadowRecord,
  applyUpdate,
  computeDelta,
  diffToUpdate,
  isExactNumber,
  jsonEqual,
  mergeState,
  parseJson,
  parseUpdateRequest,
  readShadowDocument,
  renderShadowDocument,
  stringifyJson,
  type JsonObject,
} from '../../src/shadow/index.js';

const T1 = 1_700_000_000_000;
const T2 = 1_700_000_050_000;
const BIG = '12345678901234567891';
const FINE = '0.1000000000000000055511151231257827';

function update(rec: ShadowRecord, body: string, now = T1) {
  const p = parseUpdateRequest(body);
  if (!p.ok) throw new Error(p.fault.message);
  const r = applyUpdate(rec, p, now);
  if (!r.ok) throw new Error(r.fault.message);
  return r;
}

const n = (text: string) => new LosslessNumber(text);
const obj = (text: string) => parseJson(text) as JsonObject;

describe('stored shadows keep exact numbers', () => {
  it('echo, store and render a big integer and a long decimal as sent, each with one metadata leaf', () => {
    const rec = new ShadowRecord();
    const accepted = update(rec, `{"state":{"reported":{"counter":${BIG},"ratio":${FINE}}}}`);
    expect(accepted.body).toContain(`"state":{"reported":{"counter":${BIG},"ratio":${FINE}}}`);
    expect(accepted.body).toContain(
      '"metadata":{"reported":{"counter":{"timestamp":1700000000},"ratio":{"timestamp":1700000000}}}',
    );
    expect(renderShadowDocument(rec, T1)).toBe(
      `{"state":{"reported":{"counter":${BIG},"ratio":${FINE}}},"metadata":{"reported":{"counter":{"timestamp":1700000000},"ratio":{"timestamp":1700000000}}},"version":1,"timestamp":1700000000}`,
    );
  });

  it('keep an exact number untouched when a sibling changes, with its old timestamp', () => {
    const rec = new ShadowRecord();
    update(rec, `{"state":{"desired":{"counter":${BIG},"mode":"a"}}}`);
    update(rec, '{"state":{"desired":{"mode":"b"}}}', T2);
    expect(renderShadowDocument(rec, T2)).toContain(`"desired":{"counter":${BIG},"mode":"b"}`);
    expect(renderShadowDocument(rec, T2)).toContain(
      '"metadata":{"desired":{"counter":{"timestamp":1700000000},"mode":{"timestamp":1700000050}}}',
    );
    const doc = readShadowDocument(rec, T2);
    expect(isExactNumber(doc.state.desired?.counter) && doc.state.desired.counter.value).toBe(BIG);
  });

  it('put an exact number that differs in its last digit in the delta, and none that is equal in value', () => {
    const rec = new ShadowRecord();
    update(
      rec,
      `{"state":{"desired":{"a":${BIG},"b":${BIG}},"reported":{"a":12345678901234567890,"b":1.2345678901234567891e19}}}`,
    );
    expect(renderShadowDocument(rec, T1)).toContain(`"delta":{"a":${BIG}}`);
  });

  it('count an exact number at the deepest level as a leaf, not as one more level', () => {
    const rec = new ShadowRecord();
    expect(() => update(rec, `{"state":{"desired":{"l2":{"l3":{"l4":{"l5":{"l6":${BIG}}}}}}}}`)).not.toThrow();
  });

  it('keep the number a client version check compares out of the exact path: a huge version is invalid', () => {
    const p = parseUpdateRequest(`{"state":{"desired":{"a":1}},"version":${BIG}}`);
    expect(p.ok).toBe(false);
  });
});

describe('the shadow model compares exact numbers by value', () => {
  it('jsonEqual and computeDelta see equal values in different text as equal', () => {
    expect(jsonEqual(n(BIG), n('1.2345678901234567891E+19'))).toBe(true);
    expect(jsonEqual(n(BIG), n('12345678901234567892'))).toBe(false);
    expect(jsonEqual(n(BIG), { value: BIG, isLosslessNumber: true } as unknown as JsonObject)).toBe(false);
    expect(computeDelta(obj(`{"x":[${BIG}]}`), obj('{"x":[1.2345678901234567891e19]}'))).toBeUndefined();
  });

  it('mergeState replaces an exact number as a leaf', () => {
    expect(stringifyJson(mergeState(obj(`{"a":${BIG},"b":1}`), obj(`{"a":${FINE}}`)))).toBe(`{"a":${FINE},"b":1}`);
  });

  it('diffToUpdate sends a changed exact number whole and nothing for one equal in value', () => {
    const current = obj(`{"counter":${BIG},"list":[1,${BIG}],"other":1}`);
    expect(
      stringifyJson(diffToUpdate(current, obj(`{"counter":12345678901234567892,"list":[1,${BIG}],"other":1}`))),
    ).toBe('{"counter":12345678901234567892}');
    expect(
      diffToUpdate(current, obj('{"counter":1.2345678901234567891e19,"list":[1,12345678901234567891.0],"other":1}')),
    ).toBeUndefined();
    expect(
      stringifyJson(diffToUpdate(current, obj(`{"counter":${BIG},"list":[1,12345678901234567890],"other":1}`))),
    ).toBe('{"list":[1,12345678901234567890]}');
    expect(stringifyJson(diffToUpdate(obj('{"a":1}'), obj(`{"a":${BIG}}`)))).toBe(`{"a":${BIG}}`);
    expect(stringifyJson(diffToUpdate(obj(`{"a":${BIG}}`), { a: 5 }))).toBe('{"a":5}');
    expect(stringifyJson(diffToUpdate(obj(`{"a":${BIG}}`), {}))).toBe('{"a":null}');
  });

  it('diffToUpdate refuses a target number outside the range of a double, naming its path', () => {
    expect(() => diffToUpdate({}, obj('{"limits":{"max":1e400}}'))).toThrow(InvalidArgumentError);
    expect(() => diffToUpdate({}, obj('{"limits":{"max":1e400}}'))).toThrow('/limits/max is 1e400');
  });
});
