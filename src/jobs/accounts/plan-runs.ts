/**
 * What every job over the accounts of a plan shares (a rollout, a snapshot): each account's
 * client fields taken from the plan, its targets or the job's, the accounts' runs started in the
 * plan's order on one placement, a usage error every account refused with told apart from an
 * account's own failure, and one progress event made of the accounts' own.
 */
import type { CredentialSourceOptions } from '../../client/credential-source.js';
import type { JobPlacement } from '../../engine/job-placement.js';
import { defaultRegion } from '../../engine/job-run.js';
import type { TargetSelection } from '../../engine/target-selection.js';
import { InvalidArgumentError, isShadowError } from '../../errors.js';
import type { AccountPlan } from './account-plan.js';

/**
 * The options of a job that an account of a plan gives instead (its client, its credentials)
 * or that the plan's job replaces (one progress callback for all); each job adds its targets.
 */
export type PlanAccountFields =
  | 'endpoint'
  | 'region'
  | 'credentials'
  | 'profile'
  | 'roleArn'
  | 'externalId'
  | 'sessionName'
  | 'controlEndpoint'
  | 'onProgress';

/** An account's endpoint, region (the default one when the plan gives none), credentials source and control endpoint. */
export interface AccountClientFields extends CredentialSourceOptions {
  endpoint: string;
  region: string;
  controlEndpoint?: string;
}

/** The client fields of account `i` of the plan. */
export function accountClientFields(plan: AccountPlan, i: number): AccountClientFields {
  const a = plan.accounts[i]!;
  const fields: AccountClientFields = { endpoint: a.endpoint, region: a.region ?? defaultRegion() };
  for (const k of ['profile', 'roleArn', 'externalId', 'sessionName', 'controlEndpoint'] as const) {
    const v = a[k];
    if (v !== undefined) fields[k] = v;
  }
  return fields;
}

/**
 * The targets of account `i`: its own (a things file or a selection), else the job's `fallback`;
 * with neither, an InvalidArgumentError naming the file, the account and where targets may be
 * given (`where`, e.g. "in the plan, or targets: in the rollout spec for every account").
 */
export function accountTargets<T>(
  plan: AccountPlan,
  i: number,
  fallback: T | undefined,
  where: string,
): string | TargetSelection | T {
  const a = plan.accounts[i]!;
  const targets = a.targets ?? fallback;
  if (targets === undefined)
    throw new InvalidArgumentError(`${plan.file}: accounts[${i}] (${a.name}): targets: required (${where})`);
  return targets;
}

/**
 * Starts every account's run. With a placement (the queue), account i opens its JobRun only
 * after account i-1 opened its own, so the run's lanes follow the plan's order and a take-over
 * (`attach`) finds each account's batches in the lane of the same number. The accounts still run
 * at once: only the few milliseconds before each JobRun opens are taken in turn.
 */
export function startInOrder<O extends { placement?: JobPlacement | undefined }, R>(
  perAccount: O[],
  run: (o: O) => Promise<R>,
): Promise<R>[] {
  let previous: Promise<unknown> = Promise.resolve();
  return perAccount.map((ao) => {
    const shared = ao.placement;
    if (shared === undefined) return run(ao);
    let opened!: () => void;
    const placed = new Promise<void>((r) => {
      opened = r;
    });
    ao.placement = (context) => {
      opened();
      return shared(context);
    };
    const started = previous.then(() => run(ao));
    // The next account starts once this one has placed its JobRun, or failed before it could.
    previous = Promise.race([placed, started.then(noop, noop)]);
    return started;
  });
}

const noop = (): void => {};

/** The error every account refused with, when it is the same usage error (a bad option, say): exit 2, as one job. */
export function usageErrorOfAll(settled: readonly PromiseSettledResult<unknown>[]): unknown {
  const reasons = settled.map((s) => (s.status === 'rejected' ? s.reason : undefined));
  const first = reasons[0];
  if (first === undefined || !isShadowError(first)) return undefined;
  if (first.code !== 'SHADOW_ERR_INVALID_ARGUMENT' && first.code !== 'SHADOW_ERR_CONFIG') return undefined;
  return reasons.every((r) => isShadowError(r) && r.message === first.message) ? first : undefined;
}

/** One account's section of a plan's result: its job's result, or the error that stopped it. */
export interface AccountSection<R> {
  name: string;
  endpoint: string;
  region: string;
  ok: boolean;
  /** Absent when the account's job could not run (`error` says why). */
  result?: R;
  error?: { name: string; message: string };
}

/** The section of account `fields` (name, endpoint, region) from its settled job; `ok` says whether a result is a success. */
export function accountSection<R>(
  fields: { name: string; endpoint: string; region: string },
  s: PromiseSettledResult<R>,
  ok: (r: R) => boolean,
): AccountSection<R> {
  const base = { name: fields.name, endpoint: fields.endpoint, region: fields.region };
  if (s.status === 'fulfilled') return { ...base, ok: ok(s.value), result: s.value };
  const err = s.reason as Error | undefined;
  return { ...base, ok: false, error: { name: err?.name ?? 'Error', message: err?.message ?? String(s.reason) } };
}

/**
 * One progress callback per account; once every account has reported, each event of any
 * account emits `total(events, final)` (the events in the plan's order), final when every
 * account's last event was.
 */
export function progressOfAll<P extends { final?: boolean }, T>(
  names: readonly string[],
  total: (events: ReadonlyMap<string, P>, final: boolean) => T,
  emit: (t: T) => void,
): Array<(p: P) => void> {
  // In the plan's order whichever account reports first, so `accounts` of every event lists them alike.
  const events = new Map<string, P | undefined>(names.map((n) => [n, undefined]));
  let reported = 0;
  return names.map((name) => (p: P) => {
    if (events.get(name) === undefined) reported += 1;
    events.set(name, p);
    if (reported < names.length) return;
    const all = events as Map<string, P>;
    emit(
      total(
        all,
        [...all.values()].every((e) => e.final === true),
      ),
    );
  });
}

/**
 * Sets each account's `onProgress` (in the plan's order) so that `emit` gets one event for the
 * whole plan (see progressOfAll); nothing without `emit`.
 */
export function followAccounts<P extends { final?: boolean }, T>(
  plan: AccountPlan,
  perAccount: ReadonlyArray<{ onProgress?: (p: P) => void }>,
  total: (events: ReadonlyMap<string, P>, final: boolean) => T,
  emit: ((t: T) => void) | undefined,
): void {
  if (emit === undefined) return;
  const each = progressOfAll(
    plan.accounts.map((a) => a.name),
    total,
    emit,
  );
  perAccount.forEach((ao, i) => {
    ao.onProgress = each[i]!;
  });
}
