import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { newLinkToken } from '../src/domain/tokens.js';
import { testDialects } from './helpers/databases.js';
import { buildLink, buildWorkspace, send } from './helpers/factories.js';
import { startHarness, type Harness } from './helpers/harness.js';
import { REDIS_TEST_URL, redisAvailable } from './helpers/redis.js';

// With REDIS_URL, the miss and password-attempt limits count every instance's misses
// (DESIGN §7): two instances on one real Redis, each under this run's own key prefix.

const withRedis = await redisAvailable();
const withPostgres = (await testDialects()).includes('postgres');
const CLIENT = '127.0.0.1';

describe.runIf(withRedis)('rate limits shared through Redis', () => {
  const prefix = `porthole-test-${randomBytes(6).toString('hex')}:`;
  const env = { REDIS_URL: REDIS_TEST_URL, REDIS_PREFIX: prefix };
  const redis = new Redis(REDIS_TEST_URL);
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  const started = async (extra: Record<string, string> = {}, dialect: 'sqlite' | 'postgres' = 'sqlite') => {
    const h = await startHarness(dialect, { ...env, ...extra });
    onTestFinished(() => h.close());
    return h;
  };
  const miss = (h: Harness) => send(h.app, 'GET', `/v1/shared/${newLinkToken()}`);
  /** Waits until the instance has heard of a block (it learns it from Redis, a moment later). */
  const blockedOn = async (h: Harness, limiter: 'misses' | 'passwordAttempts', client: string) => {
    for (let waited = 0; waited < 3000; waited += 10) {
      if (h.ctx[limiter].retryAfter(client, h.ctx.now()) > 0) return true;
      await new Promise((r) => setTimeout(r, 10));
    }
    return false;
  };

  it('misses on two instances add up: the 30th blocks the client on both, a valid link included', async () => {
    const a = await started();
    const b = await started();
    const link = await buildLink(await buildWorkspace(a));
    const heard: string[] = [];
    const listener = new Redis(REDIS_TEST_URL);
    onTestFinished(() => listener.disconnect());
    await listener.subscribe(`${prefix}blocked`);
    listener.on('message', (_channel: string, message: string) => heard.push(message));

    for (let i = 0; i < 15; i++) expect((await miss(a)).status).toBe(404);
    for (let i = 0; i < 14; i++) expect((await miss(b)).status).toBe(404);
    // 29 misses in all, 15 and 14 on each: neither instance refuses yet.
    expect((await send(a.app, 'GET', `/v1/shared/${link.token}`)).status).toBe(200);
    expect((await miss(b)).status).toBe(404);

    expect(await blockedOn(a, 'misses', CLIENT)).toBe(true);
    expect(await blockedOn(b, 'misses', CLIENT)).toBe(true);
    const refused = await send(a.app, 'GET', `/v1/shared/${link.token}`);
    expect(refused.status).toBe(429);
    expect(refused.body.reason).toBe('rate_limited');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect((await miss(b)).status).toBe(429);

    // What left the process names no client: keys and announcements carry a hash.
    const keys = await redis.keys(`${prefix}*`);
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) expect(key).toMatch(new RegExp(`^${prefix}miss:misses:[A-Za-z0-9_-]{32}$`));
    expect(heard.length).toBeGreaterThan(0);
    for (const message of heard) expect(message).not.toContain(CLIENT);
  });

  it.runIf(withPostgres)('wrong passwords on two instances of one database add up to the link\'s limit of 10', async () => {
    const a = await started({}, 'postgres');
    const b = await started({ DATABASE_URL: a.ctx.config.databaseUrl as string }, 'postgres');
    const link = await buildLink(await buildWorkspace(a), { password: 'open sesame' });
    for (const [i, h] of [a, b, a, b, a, b, a, b, a, b].entries()) {
      const wrong = await send(h.app, 'POST', `/v1/shared/${link.token}/unlock`, { password: `guess ${i}` });
      expect(wrong.body.reason).toBe('password_invalid');
    }
    const attemptKey = `${link.id}\u0000${CLIENT}`;
    for (const h of [a, b]) {
      expect(await blockedOn(h, 'passwordAttempts', attemptKey)).toBe(true);
      const locked = await send(h.app, 'POST', `/v1/shared/${link.token}/unlock`, { password: 'open sesame' });
      expect(locked.status).toBe(429);
      expect(locked.body.reason).toBe('rate_limited');
    }
  });

  it('an unreachable Redis leaves each instance limiting on its own, and closing does not wait for it', async () => {
    const h = await startHarness('sqlite', { REDIS_URL: 'redis://127.0.0.1:1', REDIS_PREFIX: prefix });
    try {
      for (let i = 0; i < 30; i++) expect((await miss(h)).status).toBe(404);
      expect((await miss(h)).status).toBe(429);
    } finally {
      const closing = Date.now();
      await h.close();
      expect(Date.now() - closing).toBeLessThan(5000);
    }
  });
});
