import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/errors.js';
import { checkPositive, formatOptionValue, optionMessage, requirePositive } from '../../src/options/check-positive.js';

describe('checkPositive', () => {
  it('lets absent values and positive whole numbers through', () => {
    expect(() => checkPositive('workers', undefined)).not.toThrow();
    expect(() => checkPositive('workers', 3)).not.toThrow();
    expect(() => checkPositive('listThingsRps', 0.5, { integer: false })).not.toThrow();
  });

  it('names the field, the offending value, and the source when there is one, in the one message template', () => {
    expect(() => checkPositive('workers', 1.5)).toThrow(
      new InvalidArgumentError('workers: expected a positive integer, got 1.5'),
    );
    expect(() => checkPositive('workers', 0, { source: 'restore.yaml' })).toThrow(
      new InvalidArgumentError('restore.yaml: workers: expected a positive integer, got 0'),
    );
    expect(() => checkPositive('listThingsRps', -1, { integer: false })).toThrow(
      new InvalidArgumentError('listThingsRps: expected a positive number, got -1'),
    );
    expect(() => checkPositive('listThingsRps', Number.POSITIVE_INFINITY, { integer: false })).toThrow(
      'listThingsRps: expected a positive number, got Infinity',
    );
    expect(() => checkPositive('batchSize', '10')).toThrow('batchSize: expected a positive integer, got "10"');
    expect(() => checkPositive('batchSize', 2 ** 53)).toThrow(
      'batchSize: expected a positive integer, got 9007199254740992',
    );
  });

  it('refuses an absent value where one is required, and returns the number it accepts', () => {
    expect(requirePositive('batchSize', 7)).toBe(7);
    expect(() => requirePositive('batchSize', undefined)).toThrow(
      new InvalidArgumentError('batchSize: expected a positive integer, got nothing'),
    );
  });

  it('builds messages as the spec files and flags do', () => {
    expect(optionMessage('rate.perSecond', 'a positive number', { source: 'rollout.yaml', value: 0 })).toBe(
      'rollout.yaml: rate.perSecond: expected a positive number, got 0',
    );
    expect(optionMessage('rate.perSecond', 'a positive number', { source: '--rate', value: 0 })).toBe(
      '--rate: rate.perSecond: expected a positive number, got 0',
    );
    expect(optionMessage('attempts', 'a positive integer')).toBe('attempts: expected a positive integer');
    expect(formatOptionValue('x'.repeat(50))).toBe(`"${'x'.repeat(40)}..."`);
    expect(formatOptionValue({ a: 1 })).toBe('{"a":1}');
  });
});
