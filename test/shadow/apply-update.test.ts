import { describe, expect, it } from 'vitest';
import {
  DEFAULT_SHADOW_LIMITS,
  ShadowRecord,
  applyUpdate,
  deleteRecord,
  parseUpdateRequest,
  readShadowDocument,
  renderShadowDocument,
  type ParsedUpdate,
} from '../../src/shadow/index.js';

const T1 = 1_700_000_000_000;
const T2 = 1_700_000_050_000;

function parsed(doc: unknown): ParsedUpdate {
  const p = parseUpdateRequest(typeof doc === 'string' ? doc : JSON.stringify(doc));
  if (!p.ok) throw new Error(p.fault.message);
  return p;
}

function update(rec: ShadowRecord, doc: unknown, now = T1) {
  return applyUpdate(rec, parsed(doc), now);
}

function rejection(body: string | Uint8Array, limits = DEFAULT_SHADOW_LIMITS) {
  const p = parseUpdateRequest(body, limits);
  return p.ok ? undefined : { status: p.fault.status, type: p.fault.errorType, message: p.fault.message };
}

describe('parseUpdateRequest', () => {
  it('rejects bodies that are not JSON objects with Invalid JSON', () => {
    expect(rejection('{')).toEqual({ status: 400, type: 'InvalidRequestException', message: 'Invalid JSON' });
    expect(rejection('')).toMatchObject({ message: 'Invalid JSON' });
    expect(rejection('[1]')).toMatchObject({ message: 'Invalid JSON' });
  });

  it('rejects non-UTF-8 bytes with 415 UnsupportedDocumentEncodingException', () => {
    expect(rejection(new Uint8Array([0x7b, 0xff, 0x7d]))).toEqual({
      status: 415,
      type: 'UnsupportedDocumentEncodingException',
      message: 'Unsupported documented encoding; supported encoding is UTF-8',
    });
  });

  it('requires a state node that is an object or null', () => {
    expect(rejection('{}')).toMatchObject({ message: 'Missing required node: state' });
    expect(rejection('{"state":5}')).toMatchObject({ message: 'State node must be an object' });
    expect(rejection('{"state":[]}')).toMatchObject({ message: 'State node must be an object' });
    expect(rejection('{"state":null}')).toBeUndefined();
  });

  it('requires desired and reported to be objects or null', () => {
    expect(rejection('{"state":{"desired":1}}')).toMatchObject({ message: 'Desired node must be an object' });
    expect(rejection('{"state":{"reported":[1]}}')).toMatchObject({ message: 'Reported node must be an object' });
    expect(rejection('{"state":{"desired":null,"reported":null}}')).toBeUndefined();
  });

  it('names an unknown node under state', () => {
    expect(rejection('{"state":{"delta":{}}}')).toMatchObject({ message: "State contains an invalid node: 'delta'" });
  });

  it('ignores unknown top-level keys', () => {
    expect(rejection('{"state":{},"metadata":{"x":1}}')).toBeUndefined();
  });

  it('rejects a clientToken longer than 64 bytes or not a string', () => {
    expect(rejection(JSON.stringify({ state: {}, clientToken: 'x'.repeat(64) }))).toBeUndefined();
    expect(rejection(JSON.stringify({ state: {}, clientToken: 'x'.repeat(65) }))).toMatchObject({
      message: 'Invalid clientToken',
    });
    expect(rejection(JSON.stringify({ state: {}, clientToken: 5 }))).toMatchObject({ message: 'Invalid clientToken' });
  });

  it('rejects a version that is not a non-negative integer', () => {
    expect(rejection('{"state":{},"version":1.5}')).toMatchObject({ message: 'Invalid version' });
    expect(rejection('{"state":{},"version":"1"}')).toMatchObject({ message: 'Invalid version' });
    expect(rejection('{"state":{},"version":-1}')).toMatchObject({ message: 'Invalid version' });
  });

  it('allows six levels counting the section and rejects a seventh', () => {
    const six = { state: { desired: { one: { two: { three: { four: { five: {} } } } } } } };
    const seven = { state: { desired: { one: { two: { three: { four: { five: { six: {} } } } } } } } };
    expect(rejection(JSON.stringify(six))).toBeUndefined();
    expect(rejection(JSON.stringify(seven))).toMatchObject({
      status: 400,
      message: 'JSON contains too many levels of nesting; maximum is 6',
    });
    expect(rejection(JSON.stringify(seven), { ...DEFAULT_SHADOW_LIMITS, maxDepth: 8 })).toBeUndefined();
  });

  it('rejects null inside arrays', () => {
    expect(rejection('{"state":{"reported":{"a":[1,null]}}}')).toMatchObject({
      status: 400,
      type: 'InvalidRequestException',
    });
  });
});

describe('applyUpdate', () => {
  it('creates the shadow at version 1 and echoes only what was sent', () => {
    const rec = new ShadowRecord();
    const r = update(rec, { state: { desired: { color: 'red', cfg: { levels: [1, 2] } } }, clientToken: 'c-1' });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(JSON.parse(r.body)).toEqual({
      state: { desired: { color: 'red', cfg: { levels: [1, 2] } } },
      metadata: {
        desired: {
          color: { timestamp: 1700000000 },
          cfg: { levels: [{ timestamp: 1700000000 }, { timestamp: 1700000000 }] },
        },
      },
      version: 1,
      timestamp: 1700000000,
      clientToken: 'c-1',
    });
  });

  it('echoes null leaves with their metadata in the accepted document', () => {
    const rec = new ShadowRecord();
    update(rec, { state: { reported: { a: 1, b: 2 } } });
    const r = update(rec, { state: { reported: { a: null } } }, T2);
    expect(r.ok && JSON.parse(r.body)).toEqual({
      state: { reported: { a: null } },
      metadata: { reported: { a: { timestamp: 1700000050 } } },
      version: 2,
      timestamp: 1700000050,
    });
  });

  it('renders the GET document with delta, per-leaf metadata and the response time', () => {
    const rec = new ShadowRecord();
    update(rec, { state: { desired: { color: 'red', cfg: { mode: 'eco', levels: [1, 2] } } } });
    update(rec, { state: { reported: { color: 'blue', cfg: { mode: 'eco' }, fw: '1.2' } }, version: 1 }, T2);
    const doc = JSON.parse(renderShadowDocument(rec, 1_700_000_100_000));
    expect(doc).toEqual({
      state: {
        desired: { color: 'red', cfg: { mode: 'eco', levels: [1, 2] } },
        reported: { color: 'blue', cfg: { mode: 'eco' }, fw: '1.2' },
        delta: { color: 'red', cfg: { levels: [1, 2] } },
      },
      metadata: {
        desired: {
          color: { timestamp: 1700000000 },
          cfg: { mode: { timestamp: 1700000000 }, levels: [{ timestamp: 1700000000 }, { timestamp: 1700000000 }] },
        },
        reported: {
          color: { timestamp: 1700000050 },
          cfg: { mode: { timestamp: 1700000050 } },
          fw: { timestamp: 1700000050 },
        },
      },
      version: 2,
      timestamp: 1700000100,
    });
    expect(readShadowDocument(rec, 1_700_000_100_000)).toEqual(doc);
  });

  it('answers 409 Version conflict on a stale version and changes nothing', () => {
    const rec = new ShadowRecord();
    update(rec, { state: { desired: { a: 1 } } });
    update(rec, { state: { desired: { a: 2 } } });
    const r = update(rec, { state: { desired: { a: 3 } }, version: 1 });
    expect(r).toEqual({
      ok: false,
      fault: { status: 409, errorType: 'ConflictException', message: 'Version conflict' },
    });
    expect(rec.version).toBe(2);
    expect(update(rec, { state: { desired: { a: 3 } }, version: 2 }).ok).toBe(true);
  });

  it('answers 413 when merged desired plus reported exceeds 8192 bytes', () => {
    const rec = new ShadowRecord();
    update(rec, { state: { desired: { a: 'x'.repeat(4000) } } });
    const r = update(rec, { state: { reported: { b: 'y'.repeat(4200) } } });
    expect(r.ok ? undefined : r.fault).toEqual({
      status: 413,
      errorType: 'RequestEntityTooLargeException',
      message: 'The payload exceeds the maximum size allowed',
    });
    expect(rec.version).toBe(1);
  });

  it('clears the state but keeps the shadow on state null', () => {
    const rec = new ShadowRecord();
    update(rec, { state: { desired: { a: 1 }, reported: { a: 2 } } });
    const r = update(rec, { state: null }, T2);
    expect(r.ok && JSON.parse(r.body)).toEqual({
      state: null,
      metadata: { timestamp: 1700000050 },
      version: 2,
      timestamp: 1700000050,
    });
    expect(JSON.parse(renderShadowDocument(rec, T2))).toEqual({
      state: {},
      metadata: {},
      version: 2,
      timestamp: 1700000050,
    });
  });

  it('drops a section set to null and a section emptied by null leaves', () => {
    const rec = new ShadowRecord();
    update(rec, { state: { desired: { a: 1 }, reported: { b: 1 } } });
    update(rec, { state: { desired: null, reported: { b: null } } });
    expect(readShadowDocument(rec, T1).state).toEqual({});
  });

  it('keeps an empty desired section out of a fresh shadow and treats it as a no-op later by default', () => {
    const rec = new ShadowRecord();
    update(rec, { state: { desired: {} } });
    expect(readShadowDocument(rec, T1).state).toEqual({});
    update(rec, { state: { desired: { a: 1 } } });
    update(rec, { state: { desired: {} } });
    expect(readShadowDocument(rec, T1)).toMatchObject({ state: { desired: { a: 1 } }, version: 3 });
    const p = parseUpdateRequest('{"state":{"desired":{}}}');
    expect(p.ok && applyUpdate(rec, p, T1, { emptySectionClears: true }).ok).toBe(true);
    expect(readShadowDocument(rec, T1).state).toEqual({});
  });

  it('increments the version on delete and continues it when the shadow is re-created', () => {
    const rec = new ShadowRecord();
    update(rec, { state: { desired: { a: 1 } } });
    update(rec, { state: { desired: { a: 2 } } });
    expect(JSON.parse(deleteRecord(rec, T2))).toEqual({ version: 3, timestamp: 1700000050 });
    expect(rec.live).toBe(false);
    const r = update(rec, { state: { reported: { b: 1 } } });
    expect(r.ok && r.version).toBe(4);
    expect(readShadowDocument(rec, T1).state).toEqual({ reported: { b: 1 } });
  });

  it('compares a version sent for a never-created shadow with 0', () => {
    expect(update(new ShadowRecord(), { state: {}, version: 1 }).ok).toBe(false);
    expect(update(new ShadowRecord(), { state: {}, version: 0 }).ok).toBe(true);
  });
});
