/**
 * The bulk-task contract between the coordinator (main thread) and the worker threads.
 * Everything that crosses a thread boundary here is structured-clone safe plain data.
 *
 * A job adds a worker handler for its `kind` in `workers/handlers/<kind>.ts` and registers it
 * in `workers/handlers/index.ts`; the coordinator, the pool, the rate gates and the journal
 * are shared by every kind.
 */
import type { MessagePort } from 'node:worker_threads';
import type { ErrorRecord } from '../errors.js';
import type { AttemptOutcome, IotDataClient, OperationName, ShadowRef } from '../client/index.js';
import type { JsonObject, ShadowDocument, ShadowLimits } from '../shadow/index.js';
import type { ItemOutcome } from './item-outcome.js';

/** One target of a bulk run. `data` carries the extra CSV/JSON-lines columns, as strings. */
export interface TargetItem {
  thingName: string;
  shadowName?: string;
  data?: Record<string, string>;
}

export type TaskKind =
  | 'rollout'
  | 'snapshot-read'
  | 'restore'
  | 'bench'
  | 'converge-check'
  | 'sync'
  | 'rollback'
  | 'wave-check';

/** The client settings a worker builds its one IotDataClient from (one client per thread per config). */
export interface WorkerClientConfig {
  endpoint: string;
  region: string;
  signingName?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  connections?: number;
  requestTimeoutMs?: number;
  /** Client retry attempts per request (429/5xx/network); the client's default when absent. */
  maxAttempts?: number;
  /** Client backoff base and cap, in ms; the client's defaults when absent. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /**
   * Where the worker takes the account's credentials from when `credentials` is absent: a
   * profile of its shared AWS files and/or a role to assume (see CredentialSourceOptions in
   * src/client/credential-source.ts). Names only, never secrets: each worker (thread or queue
   * process) resolves them itself and refreshes them before they expire.
   */
  profile?: string;
  roleArn?: string;
  externalId?: string;
  sessionName?: string;
}

/** What travels to a worker for one batch. */
export interface WorkerTask<C = unknown> {
  kind: TaskKind;
  config: C;
  client: WorkerClientConfig;
  items: TargetItem[];
  /** Set by the coordinator: the port the worker's gate uses to ask for account permits. */
  gatePort?: MessagePort;
  /** Set by the pool runner when the run can be interrupted: one message on it aborts the batch's HandlerContext.signal. */
  cancelPort?: MessagePort;
  /** Permit batch size per gated operation (ops absent are not account-gated). */
  permits?: Partial<Record<OperationName, number>>;
  /** Per-thing limits the worker enforces itself (a thing is in one batch at a time). */
  thingLimits?: ThingLimits;
}

export interface ThingLimits {
  /** Requests per second per thing (all shadow operations together); 0 = unlimited. Default 20. */
  thingRps: number;
  /** Requests in flight per thing; 0 = unlimited. Default 10. */
  thingInFlight: number;
}

/** What comes back, one per item: plain data, errors as ErrorRecord. */
export interface ItemResult {
  thingName: string;
  shadowName?: string;
  /** What happened (see ITEM_OUTCOMES in item-outcome.ts). */
  outcome: ItemOutcome;
  error?: ErrorRecord;
  /** Handler-level attempts (a conflict re-read counts one more). */
  attempts: number;
  /** HTTP requests sent for this item, client retries included. */
  requests: number;
  /** Of those, the ones the server answered (any status): only these are billed. */
  answered?: number;
  /** 429 answers seen for this item. */
  throttles: number;
  /** Wall time spent on this item in the worker, in ms. */
  latencyMs: number;
  /** Bytes of update documents sent. */
  bytesSent: number;
  /** Bytes of the whole target document (what a naive client would send). */
  wholeBytes?: number;
  /** Free-form payload, e.g. JSON lines of snapshot records. */
  payload?: string;
  detail?: unknown;
}

/** Requests and throttles counted for one target (thing + shadow). */
export interface ItemUsage {
  requests: number;
  throttles: number;
  /** Requests the server answered (a refused or dropped connection is not billed). */
  answered?: number;
}

/**
 * The worker side of the rate gates. The worker wires the client's hooks to `acquire` and
 * `release`, so a handler normally does not call them itself; it may, to gate requests it
 * sends another way. `takeUsage` returns (and resets) what was counted for a target.
 */
export interface WorkerGate {
  /** Waits for a per-thing slot (rate + in flight) and an account permit for `op`. */
  acquire(op: OperationName, ref: ShadowRef | undefined): Promise<void>;
  /** Frees the per-thing slot and reports a throttle to the account gate. */
  release(op: OperationName, ref: ShadowRef | undefined, outcome: AttemptOutcome): void;
  takeUsage(ref: ShadowRef): ItemUsage;
}

export interface HandlerContext<C> {
  config: C;
  /** One per thread, gated by the rate gates via its hooks. */
  client: IotDataClient;
  gate: WorkerGate;
  /** Aborted when the worker is asked to stop (pool destroyed). */
  signal?: AbortSignal;
}

/** A handler gets a batch and returns one result per item, in any order. It should not throw for per-item failures. */
export type TaskHandler<C = unknown> = (items: TargetItem[], ctx: HandlerContext<C>) => Promise<ItemResult[]>;

/**
 * The config of a 'rollout' task (workers/handlers/rollout.ts). Give exactly one of `desired`
 * (a merge document: target = mergeState(current desired, desired); null deletes a key) or
 * `transform` (a module loaded once per worker thread).
 */
export interface RolloutTaskConfig {
  /** Shadow for items that name none; absent = the classic shadow. */
  shadowName?: string;
  desired?: JsonObject;
  /**
   * `desired` as JSON text (stringifyJson), used instead of `desired` when set: task configs
   * cross threads by structuredClone and queues as JSON, and a number a double cannot hold
   * (an ExactNumber, src/shadow/json-text.ts) survives neither as an object.
   */
  desiredJson?: string;
  /**
   * Absolute path or file: URL of a module whose default export (or `transform` export) is a
   * RolloutTransform. It runs inside the workers.
   */
  transform?: string;
  /** Read and diff only, never write: outcomes would-write / unchanged / skipped / too-large / invalid. */
  dryRun?: boolean;
  /** Read-diff-write attempts per thing when writes conflict (409). Default 5. */
  maxAttempts?: number;
  limits?: Partial<ShadowLimits>;
  /** clientToken prefix (a run id); tokens are `<prefix>-<n>`, at most 64 bytes. Default 'sf'. */
  clientTokenPrefix?: string;
  /** Things processed at once per batch. Default 64. */
  concurrency?: number;
  /** Put the update document sent (or that would be sent) in `detail.update`. Default false. */
  includeUpdate?: boolean;
  /**
   * A where-wave's condition (ShadowCondition syntax) on the shadow just read: a thing that does
   * not meet it ends with outcome `not-in-wave`, unwritten (re-checked after a 409 re-read).
   */
  waveWhere?: string;
  /**
   * The job's condition (`where`, ShadowCondition syntax) on the shadow just read, before any
   * write: a thing that does not meet it ends with outcome `skipped-condition`, unwritten
   * (re-checked after a 409 re-read; in a dry run, the things that meet it are the matches).
   */
  where?: string;
  /**
   * Append each write's undo record to this file (an IntentLog) before the write is sent. Every
   * write puts its undo record (`detail.undoJson`) in its result anyway; the intents cover a kill -9.
   */
  intentLog?: string;
}

/**
 * A rollout transform: returns the thing's new WHOLE desired state (keys it leaves out are
 * deleted; a null member means "absent"), or undefined to skip the thing. `shadow` is undefined
 * when the thing has no shadow yet.
 */
export type RolloutTransform = (
  shadow: ShadowDocument | undefined,
  thingName: string,
  item: TargetItem,
) => JsonObject | undefined | Promise<JsonObject | undefined>;

/** The config of a 'converge-check' task (workers/handlers/converge-check.ts). */
export interface ConvergeCheckTaskConfig {
  shadowName?: string;
  /**
   * The merge document that was rolled out: converged when `reported` holds each of its leaves
   * (and lacks each key it set to null). Absent: converged when the shadow has no delta.
   */
  desired?: JsonObject;
  /** `desired` as JSON text, used instead of it when set (see RolloutTaskConfig.desiredJson). */
  desiredJson?: string;
  concurrency?: number;
}

/** The key a journal and a resumed run use for a target: thing, plus `/shadowName` for a named shadow. */
export function itemKey(item: { thingName: string; shadowName?: string | undefined }): string {
  return item.shadowName === undefined ? item.thingName : `${item.thingName}/${item.shadowName}`;
}

/**
 * The result record a handler fills in for one shadow: `failed` until the handler says
 * otherwise, no request yet, the shadow's name when it has one.
 */
export function startResult(thingName: string, shadowName: string | undefined, attempts: number): ItemResult {
  const r: ItemResult = {
    thingName,
    outcome: 'failed',
    attempts,
    requests: 0,
    throttles: 0,
    latencyMs: 0,
    bytesSent: 0,
  };
  if (shadowName !== undefined) r.shadowName = shadowName;
  return r;
}
