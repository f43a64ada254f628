/**
 * What plan, apply and drift share: the fleet file, the data plane it lives on (endpoint,
 * region, credentials or profile, rate), and the run that reads the fleet. Validated once.
 */
import { InvalidArgumentError } from '../../errors.js';
import { JobRun, jobClientConfig, type JobRunOptions } from '../../engine/job-run.js';
import type { JobPlacement } from '../../engine/job-placement.js';
import type { ShadowLimits } from '../../shadow/limits.js';
import { resolveSide, type SyncSide, type SyncSideOptions } from '../sync/sync-side.js';
import { loadFleetFile, type FleetFile } from './fleet-file.js';
import type { FleetReadOptions } from './fleet-read.js';

export interface FleetJobOptions extends SyncSideOptions {
  /** The fleet file (a path), or one already read. */
  file: string | FleetFile;
  /** Read the fleet from a recent snapshot (a directory or s3://bucket/prefix/) instead of the data plane. */
  fromSnapshot?: string;
  /** Shadow limits the desired fragments are checked against. */
  limits?: Partial<ShadowLimits>;
  /** Things per read batch. Default 100. */
  batchSize?: number;
  signal?: AbortSignal;
  /**
   * Where the batches run (e.g. queuePlacement of shadowfleet/queue): the fleet's read and, in
   * apply, each group's rollout. Default: this process's thread pool.
   */
  placement?: JobPlacement;
}

export interface FleetContext {
  file: FleetFile;
  side: SyncSide;
  read: FleetReadOptions;
  /** Requests/s per operation the plan's time is computed at. */
  ratePerSecond: number | 'off';
}

export const DEFAULT_FLEET_RATE = 4000;

/** Reads the fleet file and resolves the side; nothing is sent. */
export async function fleetContext(o: FleetJobOptions): Promise<FleetContext> {
  if (typeof o !== 'object' || o === null) throw new InvalidArgumentError('fleet: expected an options object');
  if (o.file === undefined) throw new InvalidArgumentError('file: required (the fleet file)');
  if (o.batchSize !== undefined && !(Number.isInteger(o.batchSize) && o.batchSize > 0))
    throw new InvalidArgumentError('batchSize: expected a positive integer');
  const file =
    typeof o.file === 'string'
      ? await loadFleetFile(o.file, o.limits === undefined ? {} : { limits: o.limits })
      : o.file;
  const endpoint = o.endpoint ?? process.env.SHADOWFLEET_ENDPOINT;
  const side = await resolveSide({ ...o, ...(endpoint === undefined ? {} : { endpoint }) }, '');
  const read: FleetReadOptions = { select: side.select };
  if (o.fromSnapshot !== undefined) read.fromSnapshot = o.fromSnapshot;
  return { file, side, read, ratePerSecond: o.rate ?? DEFAULT_FLEET_RATE };
}

/** The JobRun that reads the fleet (and runs drift). */
export function fleetRun(ctx: FleetContext, o: FleetJobOptions): JobRun {
  const ro: JobRunOptions = { client: jobClientConfig(ctx.side.client), batchSize: o.batchSize ?? 100 };
  if (ctx.side.rates !== undefined) ro.rates = ctx.side.rates;
  if (ctx.side.workers !== undefined) ro.workers = ctx.side.workers;
  if (o.signal !== undefined) ro.signal = o.signal;
  if (o.placement !== undefined) ro.placement = o.placement;
  return new JobRun(ro);
}
