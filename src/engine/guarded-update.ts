/**
 * The version-guarded write every writing handler shares (rollout, restore): read the shadow,
 * let the caller compute the update from what was read, write it guarded by the version just
 * read, and on a 409 (the device wrote meanwhile) read again and recompute, up to
 * `maxAttempts`. A device's concurrent write is kept: the next computation starts from it.
 *
 * The caller decides only how the update is computed (`plan`); the loop, the outcomes
 * (written, rebased, unchanged, would-write, failed) and the per-item accounting live here.
 *
 * Seam for conditions on the shadow (`where`): a condition is one more `plan` step, evaluated
 * in the worker on the document just read (a false condition returns a stop with outcome
 * `skipped`), and, because a 409 re-reads and calls `plan` again, re-checked on the re-read.
 * Seam for journals with before-images: `plan` sees the document it is about to change; a
 * handler that records before-images puts them in the result's `detail` from there.
 */
import { randomBytes } from 'node:crypto';
import { threadId } from 'node:worker_threads';
import { updateSerializedShadow } from '../client/iot-data-client.js';
import { ConflictError, toErrorRecord, type ErrorRecord } from '../errors.js';
import { documentJson } from '../shadow/json-text.js';
import type { ShadowDocument, UpdateDocument } from '../shadow/types.js';
import type { ItemOutcome } from './item-outcome.js';
import { type HandlerContext, type ItemResult, startResult } from './task-types.js';

/** Stop without writing: the item ends with this outcome (e.g. skipped, invalid, too-large). */
export interface GuardedStop {
  outcome: ItemOutcome;
  error?: ErrorRecord;
}

/** A write to make: the update document's `state`, and what `detail.update` shows. */
export interface GuardedWrite {
  state: UpdateDocument['state'];
  update: unknown;
  /** Checks the serialized update document before it is sent; a stop ends the item. */
  check?: (body: string) => GuardedStop | undefined;
}

export interface GuardedUpdateOptions {
  thingName: string;
  /** Absent: the classic shadow. */
  shadowName?: string;
  /** Read-compute-write attempts on 409. */
  maxAttempts: number;
  clientTokenPrefix: string;
  /** Read and compute only; outcome would-write, bytesSent the document that would be sent. */
  dryRun: boolean;
  /** Put the update in `detail.update`. */
  includeUpdate: boolean;
  /**
   * Still conflicting after `maxAttempts`: `'conflict'` ends the item with outcome `conflict`
   * (the last conflict counted), `'failed'` with outcome `failed`.
   */
  onExhausted: 'conflict' | 'failed';
  /** Runs once before the first read (a throw fails the item with no attempt made). */
  prepare?: (result: ItemResult) => void;
  /**
   * Computes the update from the document just read (undefined when the shadow does not exist).
   * Returns a write, a stop, or undefined when there is nothing to change. A throw fails the item.
   */
  plan: (
    doc: ShadowDocument | undefined,
    result: ItemResult,
  ) => Promise<GuardedWrite | GuardedStop | undefined> | GuardedWrite | GuardedStop | undefined;
}

const TOKEN_RUN = randomBytes(4).toString('hex');
let tokenCounter = 0;

/** A clientToken unique per run, thread and write: `<prefix>-<run>-<thread>-<n>`. */
export function clientToken(prefix: string): string {
  tokenCounter += 1;
  return `${prefix.slice(0, 32)}-${TOKEN_RUN}-${threadId}-${tokenCounter}`;
}

/** Runs the guarded read-compute-write loop for one shadow and returns its result record. */
export async function guardedUpdate(ctx: HandlerContext<unknown>, o: GuardedUpdateOptions): Promise<ItemResult> {
  const started = performance.now();
  const ref =
    o.shadowName === undefined ? { thingName: o.thingName } : { thingName: o.thingName, shadowName: o.shadowName };
  const r = startResult(o.thingName, o.shadowName, 0);
  // An interrupt aborts the requests in flight and the waits between retries (HandlerContext.signal).
  const call = ctx.signal === undefined ? undefined : { signal: ctx.signal };
  let conflicts = 0;
  try {
    o.prepare?.(r);
    for (;;) {
      r.attempts += 1;
      // A missing shadow is undefined, not an error (no stack trace built for the common case).
      const doc = await ctx.client.getThingShadowIfExists(ref, call);
      const plan = await o.plan(doc, r);
      if (plan === undefined) {
        r.outcome = conflicts > 0 ? 'rebased' : 'unchanged';
        break;
      }
      if ('outcome' in plan) {
        r.outcome = plan.outcome;
        if (plan.error !== undefined) r.error = plan.error;
        break;
      }
      // No shadow yet: no version to guard with (a version on a missing shadow is UNCONFIRMED in
      // the cloud); the merge only touches the keys sent, so a device's write is safe.
      const payload: UpdateDocument = { state: plan.state, clientToken: clientToken(o.clientTokenPrefix) };
      if (doc !== undefined) payload.version = doc.version;
      const body = documentJson(payload, 'update document'); // exact numbers as their text; 1e400 refused
      if (o.includeUpdate) r.detail = { update: plan.update };
      const stop = plan.check?.(body);
      if (stop !== undefined) {
        r.outcome = stop.outcome;
        if (stop.error !== undefined) r.error = stop.error;
        break;
      }
      if (o.dryRun) {
        r.outcome = 'would-write';
        r.bytesSent = Buffer.byteLength(body);
        break;
      }
      try {
        r.bytesSent += Buffer.byteLength(body);
        // documentJson wrote the body: sent without the client's JSON re-check.
        await updateSerializedShadow(ctx.client, { ...ref, payload: body }, call);
        r.outcome = conflicts > 0 ? 'rebased' : 'written';
        break;
      } catch (err) {
        if (!(err instanceof ConflictError)) throw err;
        if (r.attempts < o.maxAttempts) {
          conflicts += 1;
          continue;
        }
        if (o.onExhausted === 'failed') throw err;
        conflicts += 1;
        r.outcome = 'conflict';
        r.error = toErrorRecord(err);
        break;
      }
    }
  } catch (err) {
    r.outcome = 'failed';
    r.error = toErrorRecord(err);
  }
  const usage = ctx.gate.takeUsage(ref);
  r.requests = usage.requests;
  if (usage.answered !== undefined) r.answered = usage.answered;
  r.throttles = usage.throttles;
  r.latencyMs = performance.now() - started;
  if (conflicts > 0) r.detail = { ...(r.detail as object | undefined), conflicts };
  return r;
}
