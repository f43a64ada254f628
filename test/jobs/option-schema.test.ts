import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { InvalidArgumentError } from '../../src/errors.js';
import {
  checkOptions,
  nonNegativeIntField,
  positiveField,
  positiveIntField,
} from '../../src/jobs/options/option-schema.js';
import { checkRestoreOptions, runRestore } from '../../src/jobs/restore/restore.js';
import { checkSnapshotOptions } from '../../src/jobs/snapshot/snapshot.js';
import { checkedFlags } from '../../src/cli/flags.js';
import { runDemo } from '../../src/jobs/demo/demo.js';
import { runRollback } from '../../src/jobs/rollback/rollback.js';
import { runDiff } from '../../src/jobs/diff/diff.js';

const schema = z.object({
  workers: positiveIntField().optional(),
  rate: positiveField('a rate').optional(),
  safety: z.object({ maxThings: nonNegativeIntField().optional() }).optional(),
});

describe('the jobs option schemas', () => {
  it('word every problem in the one template, with the source of each field in front when there is one', () => {
    expect(() => checkOptions(schema, { workers: 0, rate: 'fast', safety: { maxThings: -1 } })).toThrow(
      new InvalidArgumentError(
        'workers: expected a positive integer, got 0\nrate: expected a rate, got "fast"\nsafety.maxThings: expected a whole number >= 0, got -1',
      ),
    );
    expect(() => checkOptions(schema, { workers: 1.5 }, 'restore.yaml')).toThrow(
      'restore.yaml: workers: expected a positive integer, got 1.5',
    );
    expect(() =>
      checkOptions(schema, { workers: 2, rate: 0 }, (field) => (field === 'rate' ? '--rate' : undefined)),
    ).toThrow(new InvalidArgumentError('--rate: rate: expected a rate, got 0'));
    expect(() => checkOptions(schema, { workers: 2, rate: 0.5, safety: { maxThings: 0 } })).not.toThrow();
  });

  it('check restore and snapshot options with the same fields and words', async () => {
    expect(() => checkRestoreOptions({ workers: 0, safety: { maxThings: 1.5 } })).toThrow(
      'workers: expected a positive integer, got 0\nsafety.maxThings: expected a whole number >= 0, got 1.5',
    );
    expect(() => checkSnapshotOptions({ listThingsRps: -1, maxFailures: -2 })).toThrow(
      'listThingsRps: expected a positive number, got -1\nmaxFailures: expected a whole number >= 0, got -2',
    );
    expect(() => checkSnapshotOptions({ listThingsRps: 0.5, maxFailures: 0, workers: 3 })).not.toThrow();
    await expect(runRestore({ from: '/nowhere', endpoint: 'http://127.0.0.1:9', concurrency: 0 })).rejects.toThrow(
      'concurrency: expected a positive integer, got 0',
    );
  });

  it('map command-line flags to the fields of a job, checked by its schema with the flag named as the source', () => {
    expect(() =>
      checkedFlags(
        [
          ['--max-things', 'safety.maxThings', '-1'],
          ['--workers', 'workers', 'many'],
        ],
        checkRestoreOptions,
      ),
    ).toThrow(
      new InvalidArgumentError(
        '--workers: workers: expected a positive integer, got "many"\n--max-things: safety.maxThings: expected a whole number >= 0, got -1',
      ),
    );
    expect(() => checkedFlags([['--max-failures', 'maxFailures', '0.5']], checkSnapshotOptions)).toThrow(
      '--max-failures: maxFailures: expected a whole number >= 0, got 0.5',
    );
    expect(
      checkedFlags(
        [
          ['--max-things', 'safety.maxThings', '0'],
          ['--workers', 'workers', undefined],
        ],
        checkRestoreOptions,
      ),
    ).toEqual({ safety: { maxThings: 0 } });
  });

  it("word the other jobs' positive options in the one template too, before anything starts", async () => {
    await expect(runDemo({ rate: 0 })).rejects.toThrow(
      new InvalidArgumentError('rate: expected a positive number, got 0'),
    );
    await expect(runDemo({ workers: 1.5 })).rejects.toThrow(
      new InvalidArgumentError('workers: expected a positive integer, got 1.5'),
    );
    await expect(
      runRollback({ journal: '/nowhere/rollout.journal', endpoint: 'http://127.0.0.1:9', maxAttempts: 0 }),
    ).rejects.toThrow('maxAttempts: expected a positive integer, got 0');
    await expect(runDiff({ a: '/nowhere/a', b: '/nowhere/b', memoryRecords: -1 })).rejects.toThrow(
      'memoryRecords: expected a positive integer, got -1',
    );
  });
});
