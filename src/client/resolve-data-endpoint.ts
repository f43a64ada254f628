import { ConfigError } from '../errors.js';
import type { ClientCredentials } from './credential-source.js';

/** A checked endpoint URL. */
export interface DataEndpoint {
  /** `https://host:port` */
  origin: string;
  /** `host:port` as it goes in the Host header. */
  host: string;
  hostname: string;
  /** The path prefix without a trailing slash ('' for none). */
  basePath: string;
  /** origin + basePath: safe to print, log and store (it can hold no credentials). */
  href: string;
}

/** The URL text with any `user:password@` replaced, for messages about a refused endpoint. */
function redacted(text: string): string {
  return text.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, '$1***@');
}

/**
 * The one parser of data-plane (and other service) endpoints: `https://host[:port][/path]` or a
 * bare host. Credentials (`http://user:pw@host`), a query or a fragment are refused with a
 * ConfigError naming `field`, whose message never repeats the credentials. Whatever passes can be
 * written to a manifest, a report, a page, a journal or a log as it is.
 */
export function parseDataEndpoint(text: string, field = 'endpoint'): DataEndpoint {
  if (typeof text !== 'string' || text.trim() === '')
    throw new ConfigError(`${field}: expected an endpoint URL like https://xxxx-ats.iot.us-east-1.amazonaws.com`);
  let url: URL;
  try {
    url = new URL(text.includes('://') ? text : `https://${text}`);
  } catch {
    throw new ConfigError(`${field} is not a URL: ${JSON.stringify(redacted(text))}`);
  }
  if (url.username || url.password) {
    throw new ConfigError(
      `${field} must not carry credentials (user:password@ in ${redacted(text)}); use the AWS credential chain (AWS_ACCESS_KEY_ID, a profile, a role)`,
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new ConfigError(`${field} must be http(s), got ${url.protocol}`);
  if (url.search || url.hash)
    throw new ConfigError(`${field} must not carry a query or a fragment: ${JSON.stringify(text)}`);
  const basePath = url.pathname.replace(/\/+$/, '');
  return { origin: url.origin, host: url.host, hostname: url.hostname, basePath, href: url.origin + basePath };
}

export interface ResolveDataEndpointOptions {
  /** Else AWS_REGION, else AWS_DEFAULT_REGION, else us-east-1. */
  region?: string;
  /** Else the AWS credential chain. */
  credentials?: ClientCredentials | (() => Promise<ClientCredentials>);
  /** Control-plane endpoint override (tests, VPC endpoints). */
  controlPlaneEndpoint?: string;
  signal?: AbortSignal;
}

/**
 * Finds the account's `iot:Data-ATS` endpoint through the IoT control plane's DescribeEndpoint
 * and returns it as `https://<address>`, ready for `IotDataClientOptions.endpoint`.
 */
export async function resolveDataEndpoint(options: ResolveDataEndpointOptions = {}): Promise<string> {
  const { IoTClient, DescribeEndpointCommand } = await import('@aws-sdk/client-iot');
  const region = options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
  const config: ConstructorParameters<typeof IoTClient>[0] = { region, maxAttempts: 3 };
  if (options.credentials !== undefined) config.credentials = options.credentials;
  if (options.controlPlaneEndpoint !== undefined) config.endpoint = options.controlPlaneEndpoint;
  const iot = new IoTClient(config);
  try {
    const out = await iot.send(
      new DescribeEndpointCommand({ endpointType: 'iot:Data-ATS' }),
      options.signal ? { abortSignal: options.signal } : {},
    );
    const address = out.endpointAddress;
    if (!address) throw new ConfigError(`DescribeEndpoint returned no endpointAddress in ${region}`);
    return `https://${address}`;
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    const name = (err as { name?: string })?.name ?? 'Error';
    throw new ConfigError(
      `could not find the iot:Data-ATS endpoint in ${region}: ${name}: ${(err as Error)?.message ?? String(err)}`,
      { cause: err },
    );
  } finally {
    iot.destroy();
  }
}
