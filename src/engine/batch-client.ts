/**
 * The client a batch's handler uses, built the same way wherever batches run (a pool thread, the
 * inline runner, a queue worker): the job's endpoint, region, retry, connections and timeout,
 * every attempt gated by `gate` (its hooks). Credentials: the ones the job passed, else a profile
 * or role the job named (resolved here and refreshed before they expire), else this process's own
 * AWS chain. A queued batch never carries credentials (see queued-batch.ts).
 */
import { IotDataClient, type IotDataClientOptions } from '../client/index.js';
import { credentialSourceProvider, hasCredentialSource } from '../client/credential-source.js';
import type { WorkerClientConfig, WorkerGate } from './task-types.js';

export function newBatchClient(cfg: WorkerClientConfig, gate: WorkerGate): IotDataClient {
  const retry: NonNullable<IotDataClientOptions['retry']> = {};
  if (cfg.maxAttempts !== undefined) retry.maxAttempts = cfg.maxAttempts;
  if (cfg.baseDelayMs !== undefined) retry.baseDelayMs = cfg.baseDelayMs;
  if (cfg.maxDelayMs !== undefined) retry.maxDelayMs = cfg.maxDelayMs;
  const options: IotDataClientOptions = {
    endpoint: cfg.endpoint,
    region: cfg.region,
    retry,
    hooks: {
      beforeAttempt: (op, ref) => gate.acquire(op, ref),
      afterAttempt: (op, ref, outcome) => gate.release(op, ref, outcome),
    },
  };
  if (cfg.signingName !== undefined) options.signingName = cfg.signingName as 'iotdata' | 'iotdevicegateway';
  if (cfg.credentials !== undefined) options.credentials = cfg.credentials;
  else if (hasCredentialSource(cfg)) options.credentials = credentialSourceProvider(cfg, cfg.region);
  if (cfg.connections !== undefined) options.connections = cfg.connections;
  if (cfg.requestTimeoutMs !== undefined) options.requestTimeoutMs = cfg.requestTimeoutMs;
  return new IotDataClient(options);
}
