/**
 * One side of a sync (source or destination): its data endpoint, region, credentials (given,
 * or from a named profile of the shared AWS files), rate and workers, resolved once before the
 * first request. A profile is checked here (a clear error before anything is sent) and used for
 * listing things; the data-plane client config carries only its name, and each worker (a thread,
 * or a `shadowfleet worker` process on a queue) resolves it from its own shared AWS files, so no
 * secret travels. Without either, the workers use the default credential chain (local keys for
 * a loopback emulator).
 */
import { ConfigError, InvalidArgumentError } from '../../errors.js';
import type { JobClientOptions } from '../../engine/job-run.js';
import type { RateGateOptions } from '../../engine/rate-gate.js';
import type { SelectThingsOptions } from '../fleet/select-things.js';

export interface SyncSideOptions {
  /** Data plane endpoint URL. */
  endpoint?: string;
  /** Else AWS_REGION, else us-east-1. */
  region?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** A profile of the shared AWS config and credentials files. */
  profile?: string;
  /** Control-plane endpoint for listing things; default: the data endpoint unless it is an AWS one. */
  controlEndpoint?: string;
  /** Requests per second per operation on this side (the account quota), or 'off'. Default 4000. */
  rate?: number | 'off';
  /** Worker threads for this side. Default 1. */
  workers?: number;
  /** HTTP attempts per request (429/5xx/network). Default 6. */
  requestAttempts?: number;
}

export interface SyncSide {
  client: JobClientOptions;
  rates?: RateGateOptions | 'off';
  workers?: number;
  select: SelectThingsOptions;
}

/** Validates and resolves one side; `name` (`from`, `to`; '' for none) prefixes messages. */
export async function resolveSide(o: SyncSideOptions, name: string): Promise<SyncSide> {
  const at = name === '' ? '' : `${name}.`;
  const endpoint = o.endpoint;
  if (endpoint === undefined || endpoint === '')
    throw new InvalidArgumentError(
      `${at}endpoint: required (the data plane endpoint URL); shadowfleet does not guess an AWS account`,
    );
  try {
    new URL(endpoint);
  } catch {
    throw new InvalidArgumentError(`${at}endpoint: "${endpoint}" is not a URL`);
  }
  if (o.rate !== undefined && o.rate !== 'off' && !(typeof o.rate === 'number' && o.rate > 0))
    throw new InvalidArgumentError(`${at}rate: expected a positive number or off`);
  if (o.workers !== undefined && !(Number.isInteger(o.workers) && o.workers > 0))
    throw new InvalidArgumentError(`${at}workers: expected a positive integer`);
  if (o.credentials !== undefined && o.profile !== undefined)
    throw new InvalidArgumentError(`${at === '' ? '' : name + ': '}give credentials or a profile, not both`);
  let credentials = o.credentials;
  if (o.profile !== undefined) {
    const { fromIni } = await import('@aws-sdk/credential-providers');
    try {
      const c = await fromIni({ profile: o.profile })();
      credentials =
        c.sessionToken === undefined
          ? { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey }
          : { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, sessionToken: c.sessionToken };
    } catch (err) {
      throw new ConfigError(
        `${at}profile: cannot resolve credentials of profile "${o.profile}" (${(err as Error).message})`,
        { cause: err },
      );
    }
  }
  const client: JobClientOptions = { endpoint, region: o.region, requestAttempts: o.requestAttempts ?? 6 };
  if (o.profile !== undefined) client.profile = o.profile;
  else client.credentials = credentials;
  const side: SyncSide = { client, select: { endpoint } };
  if (o.region !== undefined) side.select.region = o.region;
  if (credentials !== undefined) side.select.credentials = credentials;
  if (o.controlEndpoint !== undefined) side.select.controlEndpoint = o.controlEndpoint;
  if (o.rate !== undefined) side.rates = o.rate === 'off' ? 'off' : { accountRps: o.rate };
  if (o.workers !== undefined) side.workers = o.workers;
  return side;
}
