import { describe, expect, it } from 'vitest';
import { validateShadowName, validateThingName, validateTopic } from '../../src/shadow/index.js';

describe('name and topic validation', () => {
  it('accepts thing names of 1-128 characters from [a-zA-Z0-9:_-]', () => {
    expect(validateThingName('a')).toBeUndefined();
    expect(validateThingName('pump:17_A-b')).toBeUndefined();
    expect(validateThingName('x'.repeat(128))).toBeUndefined();
  });

  it('rejects bad thing names with AWS constraint messages', () => {
    expect(validateThingName('')).toBe(
      "1 validation error detected: Value '' at 'thingName' failed to satisfy constraint: Member must have length greater than or equal to 1",
    );
    expect(validateThingName('x'.repeat(129))).toMatch(/Member must have length less than or equal to 128$/);
    expect(validateThingName('a b')).toMatch(/Member must satisfy regular expression pattern: \[a-zA-Z0-9:_-\]\+$/);
    expect(validateThingName('$a')).toBeDefined();
    expect(validateThingName(5)).toBeDefined();
  });

  it('accepts shadow names with $ and up to 64 characters', () => {
    expect(validateShadowName('$package')).toBeUndefined();
    expect(validateShadowName('x'.repeat(64))).toBeUndefined();
    expect(validateShadowName('x'.repeat(65))).toMatch(/less than or equal to 64/);
    expect(validateShadowName('a/b')).toMatch(/regular expression/);
  });

  it('limits topics to 256 bytes and 7 slashes, excluding the Basic Ingest prefix', () => {
    expect(validateTopic('a/b/c/d/e/f/g/h')).toBeUndefined();
    expect(validateTopic('a/b/c/d/e/f/g/h/i')).toMatch(/forward slashes/);
    expect(validateTopic('$aws/rules/myrule/a/b/c/d/e/f/g/h')).toBeUndefined();
    expect(validateTopic('t'.repeat(256))).toBeUndefined();
    expect(validateTopic('t'.repeat(257))).toMatch(/256 bytes/);
  });

  it('rejects wildcards, empty topics and reserved $ topics outside $aws/', () => {
    expect(validateTopic('a/+/b')).toMatch(/wildcard/);
    expect(validateTopic('a/#')).toMatch(/wildcard/);
    expect(validateTopic('')).toBeDefined();
    expect(validateTopic('$SYS/x')).toMatch(/reserved/);
    expect(validateTopic('$aws/things/t/shadow/update')).toBeUndefined();
  });
});
