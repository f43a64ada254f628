import { ConfigError } from '../errors.js';
import type { ClientCredentials } from './iot-data-client.js';

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
    const out = await iot.send(new DescribeEndpointCommand({ endpointType: 'iot:Data-ATS' }), options.signal ? { abortSignal: options.signal } : {});
    const address = out.endpointAddress;
    if (!address) throw new ConfigError(`DescribeEndpoint returned no endpointAddress in ${region}`);
    return `https://${address}`;
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    const name = (err as { name?: string })?.name ?? 'Error';
    throw new ConfigError(`could not find the iot:Data-ATS endpoint in ${region}: ${name}: ${(err as Error)?.message ?? String(err)}`, { cause: err });
  } finally {
    iot.destroy();
  }
}
