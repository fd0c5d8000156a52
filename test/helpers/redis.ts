import { Redis } from 'ioredis';

/** The Redis the shared-limit tests use (each test under its own key prefix). */
export const REDIS_TEST_URL = process.env.PORTHOLE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * Whether the Redis tests run: required under CI=true (never skipped); on a
 * developer machine without Redis they are skipped, and say so.
 */
export async function redisAvailable(): Promise<boolean> {
  const probe = new Redis(REDIS_TEST_URL, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 2000 });
  probe.on('error', () => {});
  try {
    await probe.connect();
    await probe.ping();
    return true;
  } catch {
    if (process.env.CI === 'true') throw new Error(`Redis is required under CI=true but ${REDIS_TEST_URL} is not reachable`);
    console.warn(`Redis not reachable at ${REDIS_TEST_URL}: skipping the shared-limit tests`);
    return false;
  } finally {
    probe.disconnect();
  }
}
