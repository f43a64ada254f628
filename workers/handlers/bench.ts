/**
 * The 'bench' task handler: each item is one data-plane operation (get, update, delete, list or
 * publish) on one thing, sent through the thread's gated IotDataClient exactly as a rollout's
 * requests are. It reports, per operation, the round trip of the last HTTP attempt (the gate's
 * pacing wait is not latency), the attempts, 429s seen and bytes both ways.
 *
 * Attempts are observed on the client's `shadowfleet:request:start` / `:retry` diagnostics
 * channels; AsyncLocalStorage ties each message to the item whose call published it.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import diagnosticsChannel from 'node:diagnostics_channel';
import { performance } from 'node:perf_hooks';
import { isShadowError, toErrorRecord } from '../../src/errors.js';
import type { ShadowRef } from '../../src/client/index.js';
import type { ItemOutcome } from '../../src/engine/item-outcome.js';
import type { HandlerContext, ItemResult, TargetItem, TaskHandler } from '../../src/engine/task-types.js';

export type BenchItemOperation = 'get' | 'update' | 'delete' | 'list' | 'publish';

/** What the coordinator sends with every bench batch. */
export interface BenchTaskConfig {
  shadowName?: string;
  /** Update document sizes in bytes; item `data.size` picks one. */
  documentBytes: number[];
  /** Publish topics are `<topicPrefix><thingName>`. */
  topicPrefix: string;
}

/** `detail` of a bench ItemResult. */
export interface BenchItemDetail {
  op: BenchItemOperation;
  bytesReceived: number;
  /** Wall time of the whole call including gate waits and retries, ms. */
  totalMs: number;
}

interface AttemptState {
  attempts: number;
  throttles: number;
  lastStart: number;
}

const als = new AsyncLocalStorage<AttemptState>();
let subscribed = false;

function subscribe(): void {
  if (subscribed) return;
  subscribed = true;
  diagnosticsChannel.subscribe('shadowfleet:request:start', () => {
    const s = als.getStore();
    if (s === undefined) return;
    s.attempts += 1;
    s.lastStart = performance.now();
  });
  diagnosticsChannel.subscribe('shadowfleet:request:retry', (msg) => {
    const s = als.getStore();
    if (s === undefined) return;
    const err = (msg as { error?: unknown }).error;
    if (isShadowError(err) && err.code === 'SHADOW_ERR_THROTTLED') s.throttles += 1;
  });
}

const pads = new Map<number, string>();

/** An update document of exactly `size` bytes (ASCII), different for every `seq`. */
export function benchDocument(size: number, seq: number): string {
  const head = `{"state":{"desired":{"bench":{"seq":${seq},"pad":"`;
  const tail = '"}}}}';
  const padLen = Math.max(0, size - head.length - tail.length);
  let pad = pads.get(padLen);
  if (pad === undefined) {
    pad = 'x'.repeat(padLen);
    pads.set(padLen, pad);
  }
  return head + pad + tail;
}

async function runOne(item: TargetItem, ctx: HandlerContext<BenchTaskConfig>): Promise<ItemResult> {
  const cfg = ctx.config;
  const op = (item.data?.op ?? 'get') as BenchItemOperation;
  const seq = Number(item.data?.seq ?? 0);
  const ref: ShadowRef =
    cfg.shadowName === undefined
      ? { thingName: item.thingName }
      : { thingName: item.thingName, shadowName: cfg.shadowName };
  const state: AttemptState = { attempts: 0, throttles: 0, lastStart: 0 };
  const started = performance.now();
  let bytesSent = 0;
  let bytesReceived = 0;
  let outcome: ItemOutcome = 'ok';
  let error: ItemResult['error'];
  const client = ctx.client;
  const call = ctx.signal === undefined ? undefined : { signal: ctx.signal };
  try {
    await als.run(state, async () => {
      switch (op) {
        case 'get': {
          const raw = await client.getThingShadowRaw(ref, call);
          bytesReceived = raw.byteLength;
          break;
        }
        case 'update': {
          const sizes = cfg.documentBytes;
          const size = Number(item.data?.size ?? sizes[seq % sizes.length] ?? 512);
          const body = benchDocument(size, seq);
          bytesSent = body.length;
          const raw = await client.updateThingShadowRaw({ ...ref, payload: body }, call);
          bytesReceived = raw.byteLength;
          break;
        }
        case 'delete': {
          const r = await client.deleteThingShadow(ref, call);
          bytesReceived = JSON.stringify(r).length;
          break;
        }
        case 'list': {
          const r = await client.listNamedShadowsForThing({ thingName: item.thingName }, call);
          bytesReceived = JSON.stringify(r).length;
          break;
        }
        case 'publish': {
          const sizes = cfg.documentBytes;
          const size = Number(item.data?.size ?? sizes[seq % sizes.length] ?? 512);
          const body = benchDocument(size, seq);
          bytesSent = body.length;
          await client.publish({ topic: `${cfg.topicPrefix}${item.thingName}`, payload: body, qos: 0 }, call);
          break;
        }
        default:
          throw new Error(`unknown bench operation "${String(op)}"`);
      }
    });
  } catch (err) {
    error = toErrorRecord(err);
    if (isShadowError(err) && err.code === 'SHADOW_ERR_THROTTLED') {
      state.throttles += 1;
      outcome = 'throttled';
    } else if (isShadowError(err) && err.code === 'SHADOW_ERR_NOT_FOUND') {
      outcome = 'not-found';
    } else {
      outcome = 'failed';
    }
  }
  const ended = performance.now();
  // The gate counts requests per target too; take them so its map does not grow.
  if (op === 'list') ctx.gate.takeUsage({ thingName: item.thingName });
  else if (op !== 'publish') ctx.gate.takeUsage(ref);
  const result: ItemResult = {
    thingName: item.thingName,
    outcome,
    attempts: 1,
    requests: state.attempts,
    throttles: state.throttles,
    latencyMs: state.attempts > 0 ? ended - state.lastStart : ended - started,
    bytesSent,
    detail: { op, bytesReceived, totalMs: ended - started } satisfies BenchItemDetail,
  };
  if (ref.shadowName !== undefined) result.shadowName = ref.shadowName;
  if (error !== undefined) result.error = error;
  return result;
}

/** Runs every operation of the batch at once (the coordinator sizes batches to the target concurrency). */
const benchHandler: TaskHandler<BenchTaskConfig> = async (items, ctx) => {
  subscribe();
  return Promise.all(items.map((item) => runOne(item, ctx)));
};

export default benchHandler;
