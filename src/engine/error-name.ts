import type { ItemResult } from './task-types.js';

/**
 * The name a per-item failure is counted under in run statistics, reports and outcome files:
 * the AWS error type when the service answered (e.g. `ThrottlingException`), else the error
 * class name, else (a failure with no error record) the outcome.
 */
export function errorName(r: Pick<ItemResult, 'error' | 'outcome'>): string {
  return r.error?.awsErrorType ?? r.error?.name ?? r.outcome;
}
