import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/errors.js';
import { checkPositive, optionMessage } from '../../src/jobs/options/check-positive.js';

describe('checkPositive', () => {
  it('lets absent values and positive whole numbers through', () => {
    expect(() => checkPositive('workers', undefined)).not.toThrow();
    expect(() => checkPositive('workers', 3)).not.toThrow();
    expect(() => checkPositive('listThingsRps', 0.5, { integer: false })).not.toThrow();
  });

  it('names the field, and the source when there is one, in the one message template', () => {
    expect(() => checkPositive('workers', 1.5)).toThrow(new InvalidArgumentError('workers: expected a positive integer'));
    expect(() => checkPositive('workers', 0, { source: 'restore.yaml' })).toThrow(new InvalidArgumentError('restore.yaml: workers: expected a positive integer'));
    expect(() => checkPositive('listThingsRps', -1, { integer: false })).toThrow(new InvalidArgumentError('listThingsRps: expected a positive number'));
    expect(() => checkPositive('listThingsRps', Number.POSITIVE_INFINITY, { integer: false })).toThrow('listThingsRps: expected a positive number');
    expect(() => checkPositive('batchSize', '10')).toThrow('batchSize: expected a positive integer');
  });

  it('builds messages as the spec files do', () => {
    expect(optionMessage('rate.perSecond', 'a positive number', 'rollout.yaml')).toBe('rollout.yaml: rate.perSecond: expected a positive number');
    expect(optionMessage('attempts', 'a positive integer')).toBe('attempts: expected a positive integer');
  });
});
