/**
 * What `rollout --accounts` and `snapshot --accounts` print alike: a section per account (its
 * endpoint and region, then its own job's summary indented, or the error that stopped it) and
 * the accounts counted in the total's head.
 */
import type { AccountSection } from '../index.js';

/** `account <name>: <endpoint> (<region>)`, then `format(result)` indented, or `error: ...` and `notRun`'s lines. */
export function formatAccountSection<R>(
  a: AccountSection<R>,
  format: (result: R) => string,
  notRun: readonly string[] = [],
): string {
  const head = `account ${a.name}: ${a.endpoint} (${a.region})`;
  const body =
    a.result === undefined
      ? [`error: ${a.error?.message ?? 'unknown'}`, ...notRun].map((l) => `  ${l}`).join('\n')
      : indent(format(a.result));
  return `${head}\n${body}`;
}

/** `1 account`, `3 accounts`. */
export function accountCount(n: number): string {
  return `${n} account${n === 1 ? '' : 's'}`;
}

/** Every non-empty line indented by two spaces. */
export function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => (l === '' ? l : `  ${l}`))
    .join('\n');
}
