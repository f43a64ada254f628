/** The Redis URL of a distributed command: `--redis URL`, else SHADOWFLEET_REDIS; required or optional. */
import { InvalidArgumentError } from '../../errors.js';
import { validateRedisUrl } from './redis-connection.js';

export function redisUrlFrom(
  flag: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
  required = true,
): string | undefined {
  const url = flag ?? (env.SHADOWFLEET_REDIS === '' ? undefined : env.SHADOWFLEET_REDIS);
  if (url === undefined) {
    if (required)
      throw new InvalidArgumentError(
        '--redis URL (or SHADOWFLEET_REDIS) is required, e.g. --redis redis://127.0.0.1:6379',
      );
    return undefined;
  }
  return validateRedisUrl(url, flag === undefined ? 'SHADOWFLEET_REDIS' : '--redis');
}
