/** The real Redis the distributed tests use (127.0.0.1:6379), with a unique key prefix per test and cleanup. */
import type { Redis } from 'ioredis';
import { connectRedis } from '../../../src/engine/queue/redis-connection.js';

export const REDIS_URL = process.env.SHADOWFLEET_TEST_REDIS ?? 'redis://127.0.0.1:6379';

let seq = 0;
/** A prefix no other test (or earlier run) uses. */
export function uniquePrefix(name: string): string {
  seq += 1;
  return `sftest-${name}-${process.pid}-${Date.now().toString(36)}-${seq}`;
}

/** Deletes every key holding `prefix` (bottleneck's `b_<id>_*` keys and BullMQ's `<prefix>:*`). */
export async function deleteKeys(redis: Redis, prefix: string): Promise<void> {
  for (const pattern of [`${prefix}*`, `b_${prefix}*`]) {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  }
}

export async function openRedis(): Promise<Redis> {
  return connectRedis(REDIS_URL);
}
