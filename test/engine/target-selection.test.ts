/**
 * The selection checks and the control endpoint a selection's calls go to. The selections
 * themselves run against the emulator in test/jobs/rollout-selection.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { openTargets } from '../../src/engine/open-targets.js';
import {
  checkTargetSelection,
  controlEndpointOf,
  describeSelection,
  isTargetSelection,
} from '../../src/engine/target-selection.js';

describe('checkTargetSelection', () => {
  it('accepts a group, a recursive group, a query on AWS_Things and all things, normalised', () => {
    expect(checkTargetSelection({ thingGroup: 'eu-west' })).toEqual({ thingGroup: 'eu-west' });
    expect(checkTargetSelection({ thingGroup: 'eu-west', recursive: false })).toEqual({ thingGroup: 'eu-west' });
    expect(checkTargetSelection({ thingGroup: 'eu-west', recursive: true })).toEqual({
      thingGroup: 'eu-west',
      recursive: true,
    });
    expect(checkTargetSelection({ query: 'attributes.site:berlin', index: 'AWS_Things' })).toEqual({
      query: 'attributes.site:berlin',
      index: 'AWS_Things',
    });
    expect(checkTargetSelection({ allThings: true })).toEqual({ allThings: true });
  });

  it('refuses what cannot select things, with messages that name the field', () => {
    const cases: Array<[unknown, string]> = [
      [
        { thingGroup: 'a', query: 'b' },
        'things: give one of thingGroup, query and allThings, not thingGroup and query',
      ],
      [{ query: 'b', recursive: true }, 'things.recursive: only with thingGroup'],
      [{ thingGroup: 'a', index: 'AWS_Things' }, 'things.index: only with query'],
      [
        { query: 'b', index: 'AWS_ThingGroups' },
        'things.index: only AWS_Things (the things index) can select things, got "AWS_ThingGroups"',
      ],
      [
        { thingGroup: 'no spaces' },
        'things.thingGroup: expected a thing group name (1-128 of a-z A-Z 0-9 : _ -), got "no spaces"',
      ],
      [{ query: '  ' }, 'things.query: expected a fleet indexing query such as attributes.site:berlin'],
      [{ allThings: false }, 'things.allThings: expected true'],
      [{ thingGroup: 'a', site: 'b' }, 'things.site: unknown field'],
      ['things.txt', 'things: expected one of thingGroup, query or allThings'],
    ];
    for (const [v, message] of cases)
      expect(() => checkTargetSelection(v, 'things'), JSON.stringify(v)).toThrow(message);
  });

  it('tells a selection from a file name, a list of names and an iterable', () => {
    expect(isTargetSelection({ query: 'x' })).toBe(true);
    expect(isTargetSelection('things.txt')).toBe(false);
    expect(isTargetSelection(['a'])).toBe(false);
    expect(isTargetSelection(new Set(['a']))).toBe(false);
    expect(describeSelection({ thingGroup: 'eu', recursive: true })).toBe('thing group eu (recursive)');
    expect(describeSelection({ query: 'a:b' })).toBe('query "a:b"');
  });
});

describe('controlEndpointOf', () => {
  it('is the data endpoint for an emulator and the region default for an AWS data endpoint, unless given', () => {
    expect(controlEndpointOf({ endpoint: 'http://127.0.0.1:8443' })).toBe('http://127.0.0.1:8443');
    expect(controlEndpointOf({ endpoint: 'https://abc123-ats.iot.eu-west-1.amazonaws.com' })).toBeUndefined();
    expect(
      controlEndpointOf({
        endpoint: 'https://abc123-ats.iot.eu-west-1.amazonaws.com',
        controlEndpoint: 'https://vpce.example',
      }),
    ).toBe('https://vpce.example');
  });
});

describe('openTargets with a selection', () => {
  it('needs to know where the fleet is', async () => {
    await expect(openTargets({ thingGroup: 'eu' })).rejects.toThrow(ConfigError);
  });
});
