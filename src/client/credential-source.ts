import { access } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../errors.js';
import type { SigningCredentials } from './sigv4-signer.js';

export type CredentialsProvider = () => Promise<SigningCredentials>;

/** Keys a client is given (or a provider of them returns); `expiration` drives the refresh. */
export interface ClientCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}

/** Keys used for a loopback endpoint when no credentials resolve (the local emulator). */
export const LOCAL_CREDENTIALS: Readonly<SigningCredentials> = Object.freeze({
  accessKeyId: 'AKIDSHADOWFLEETLOCAL',
  secretAccessKey: 'shadowfleet-local-secret-key',
});

/** Refresh this long before `expiration`. */
const REFRESH_MARGIN_MS = 5 * 60_000;

export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || h.endsWith('.localhost');
}

/**
 * Memoized credentials. `current()` is the synchronous hot path: it returns the cached
 * credentials while they are more than five minutes from expiry; otherwise the caller awaits
 * `refresh()`, which shares one in-flight provider call between concurrent requests.
 */
export class CredentialSource {
  #provider: CredentialsProvider;
  #current: SigningCredentials | undefined;
  #refreshAt = 0;
  #pending: Promise<SigningCredentials> | undefined;

  constructor(provider: CredentialsProvider | SigningCredentials) {
    if (typeof provider === 'function') {
      this.#provider = provider;
    } else {
      const fixed = { ...provider };
      this.#current = fixed;
      this.#refreshAt = Number.POSITIVE_INFINITY;
      this.#provider = async () => fixed;
    }
  }

  current(nowMs: number): SigningCredentials | undefined {
    return nowMs < this.#refreshAt ? this.#current : undefined;
  }

  refresh(): Promise<SigningCredentials> {
    this.#pending ??= this.#load().finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  async #load(): Promise<SigningCredentials> {
    let creds: SigningCredentials;
    try {
      creds = await this.#provider();
    } catch (err) {
      // An early refresh that fails keeps the old keys while they are still valid; retry in 30 s.
      const old = this.#current;
      if (old !== undefined && (old.expiration === undefined || old.expiration.getTime() > Date.now() + 10_000)) {
        this.#refreshAt = Date.now() + 30_000;
        return old;
      }
      throw new ConfigError(`could not resolve AWS credentials: ${(err as Error)?.message ?? String(err)}`, {
        cause: err,
      });
    }
    if (!creds || typeof creds.accessKeyId !== 'string' || typeof creds.secretAccessKey !== 'string') {
      throw new ConfigError('the credentials provider returned no accessKeyId/secretAccessKey');
    }
    const exp = creds.expiration?.getTime();
    this.#refreshAt = exp === undefined ? Number.POSITIVE_INFINITY : exp - REFRESH_MARGIN_MS;
    this.#current = creds;
    return creds;
  }
}

/**
 * True when the environment has keys or a shared credentials or config file exists: what
 * fromEnv and fromIni read. Without any, a loopback command (one `get` against the emulator)
 * does not load @aws-sdk/credential-providers (about 30 ms of CPU) to learn there is nothing.
 */
async function hasLocalCredentialSources(): Promise<boolean> {
  const env = process.env;
  if (env.AWS_ACCESS_KEY_ID !== undefined || env.AWS_SECRET_ACCESS_KEY !== undefined) return true;
  const home = homedir();
  const files = [
    env.AWS_SHARED_CREDENTIALS_FILE ?? join(home, '.aws', 'credentials'),
    env.AWS_CONFIG_FILE ?? join(home, '.aws', 'config'),
  ];
  for (const file of files)
    if (
      await access(file).then(
        () => true,
        () => false,
      )
    )
      return true;
  return false;
}

/**
 * The default provider: the AWS credential chain (environment, shared config and profiles, SSO,
 * container and instance roles). For a loopback endpoint only the local sources (environment,
 * shared files) are consulted, and when none has credentials the fixed local keys are used, so
 * the emulator works without an AWS account and nothing leaves the machine.
 */
export function defaultCredentialsProvider(loopback: boolean): CredentialsProvider {
  if (!loopback) {
    let chain: CredentialsProvider | undefined;
    return async () => {
      if (chain === undefined) {
        const { fromNodeProviderChain } = await import('@aws-sdk/credential-providers');
        chain = fromNodeProviderChain() as CredentialsProvider;
      }
      return chain();
    };
  }
  return async () => {
    // Nothing local to read: the local keys at once, without loading the SDK's providers.
    if (!(await hasLocalCredentialSources())) return LOCAL_CREDENTIALS;
    const { fromEnv, fromIni } = await import('@aws-sdk/credential-providers');
    for (const source of [fromEnv(), fromIni()]) {
      try {
        const creds = (await source()) as SigningCredentials;
        if (creds?.accessKeyId) return creds;
      } catch {
        // try the next source
      }
    }
    return LOCAL_CREDENTIALS;
  };
}

/**
 * Where an account's credentials come from when they are not the default chain: a profile of the
 * shared AWS config and credentials files, and/or a role to assume through STS. Plain names, no
 * secrets, so the fields travel to worker threads and queue workers, which resolve (and refresh)
 * the credentials themselves.
 */
export interface CredentialSourceOptions {
  /** A profile of the shared AWS files (`~/.aws/config`, `~/.aws/credentials`). */
  profile?: string | undefined;
  /** A role to assume (AssumeRole), with the profile's credentials or else the default chain. */
  roleArn?: string | undefined;
  /** AssumeRole's ExternalId. */
  externalId?: string | undefined;
  /** AssumeRole's RoleSessionName; default `shadowfleet-<time>`. */
  sessionName?: string | undefined;
}

/** True when `o` names a profile or a role (the default chain is not enough). */
export function hasCredentialSource(o: CredentialSourceOptions): boolean {
  return o.profile !== undefined || o.roleArn !== undefined;
}

/** A role session lasts an hour; CredentialSource refreshes it five minutes before it ends. */
const ASSUMED_ROLE_SECONDS = 3600;

/**
 * The provider for a profile and/or a role, built lazily (the first call loads
 * @aws-sdk/credential-providers): `profile` alone is fromIni (a profile with its own
 * `role_arn` assumes it as the shared files say); `roleArn` is fromTemporaryCredentials with the
 * profile's credentials, or the default chain, as the caller's. STS is reached in `region` (or
 * AWS_ENDPOINT_URL_STS, as every SDK client honours). Each call returns the current credentials
 * with their expiration, so CredentialSource refreshes them before they lapse.
 */
export function credentialSourceProvider(o: CredentialSourceOptions, region: string): CredentialsProvider {
  let provider: CredentialsProvider | undefined;
  return async () => {
    if (provider === undefined) {
      const { fromIni, fromNodeProviderChain, fromTemporaryCredentials } = await import(
        '@aws-sdk/credential-providers'
      );
      const base = o.profile === undefined ? fromNodeProviderChain() : fromIni({ profile: o.profile });
      if (o.roleArn === undefined) provider = base as CredentialsProvider;
      else {
        const params: { RoleArn: string; RoleSessionName: string; DurationSeconds: number; ExternalId?: string } = {
          RoleArn: o.roleArn,
          RoleSessionName: o.sessionName ?? `shadowfleet-${Date.now()}`,
          DurationSeconds: ASSUMED_ROLE_SECONDS,
        };
        if (o.externalId !== undefined) params.ExternalId = o.externalId;
        provider = fromTemporaryCredentials({
          params,
          masterCredentials: base,
          clientConfig: { region },
        }) as CredentialsProvider;
      }
    }
    const what = o.roleArn === undefined ? `profile "${o.profile}"` : `role ${o.roleArn}`;
    try {
      return await provider();
    } catch (err) {
      throw new ConfigError(`${what}: ${(err as Error)?.message ?? String(err)}`, { cause: err });
    }
  };
}
