import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type { Redis as RedisClient } from 'ioredis';
import { createMemoryMissLimiter, type MissLimiter } from './miss-limiter.js';

/** Counts one miss in the client's window; returns the count and the milliseconds the window has left. */
const COUNT_MISS = `
local n = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {n, ttl}
`;

/** Blocks learnt from other instances that one instance keeps, per limiter. */
const MAX_BLOCKS = 100_000;

export type SharedLimits = {
  /** A limiter whose misses count on every instance sharing the Redis (`name` keeps limiters apart). */
  limiter(name: string, opts: { limit: number; windowMs: number }): MissLimiter;
  close(): Promise<void>;
};

type Block = { name: string; client: string; until: number };

/**
 * Limits shared by every instance on one Redis (REDIS_URL, DESIGN §7).
 *
 * Each instance still decides at once, from memory, so no request waits for
 * Redis: it counts its own misses as it does alone, and it knows the clients
 * another instance has blocked. Every miss is also counted in Redis, per
 * limiter and client, in a window that expires there; the instance whose miss
 * finds the count at the limit announces the block on a channel that every
 * instance listens to. A client spreading its guesses over N instances is so
 * refused after at most limit + N - 1 misses. If Redis cannot be reached,
 * each instance goes on limiting on its own.
 *
 * Clients are hashed before they leave the process: no address, email or
 * link id is stored in Redis or sent on its channel.
 */
export function createSharedLimits(url: string, opts: { prefix: string }): SharedLimits {
  // The client is loaded only where REDIS_URL is set.
  const { Redis } = createRequire(import.meta.url)('ioredis') as { Redis: typeof RedisClient };
  // Commands fail at once while Redis is away (the miss then counts locally only)...
  const commands = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
  // ...while the subscription waits for Redis, and is renewed whenever the connection is.
  const listener = new Redis(url);
  for (const connection of [commands, listener]) {
    connection.on('error', () => {
      // Reconnects by itself; meanwhile each instance limits on its own.
    });
  }
  const channel = `${opts.prefix}blocked`;
  const blocks = new Map<string, Map<string, number>>();
  const blocksOf = (name: string) => {
    let map = blocks.get(name);
    if (!map) blocks.set(name, (map = new Map()));
    return map;
  };
  const remember = ({ name, client, until }: Block) => {
    const map = blocksOf(name);
    if (!map.has(client) && map.size >= MAX_BLOCKS) map.delete(map.keys().next().value as string);
    map.set(client, Math.max(until, map.get(client) ?? 0));
  };

  listener.subscribe(channel).catch(() => {
    // Closed before it connected.
  });
  listener.on('message', (from: string, message: string) => {
    if (from !== channel) return;
    try {
      const block = JSON.parse(message) as Block;
      if (typeof block.name === 'string' && typeof block.client === 'string' && typeof block.until === 'number') remember(block);
    } catch {
      // Not one of ours.
    }
  });

  const hashed = (name: string, client: string) => createHash('sha256').update(`${name}\u0000${client}`).digest('base64url').slice(0, 32);

  return {
    limiter(name, { limit, windowMs }) {
      const local = createMemoryMissLimiter({ limit, windowMs });
      return {
        retryAfter(client, now) {
          const own = local.retryAfter(client, now);
          const map = blocks.get(name);
          if (!map?.size) return own;
          const key = hashed(name, client);
          const until = map.get(key);
          if (until === undefined) return own;
          if (until <= now) {
            map.delete(key);
            return own;
          }
          return Math.max(own, Math.ceil((until - now) / 1000));
        },
        recordMiss(client, now) {
          local.recordMiss(client, now);
          const key = hashed(name, client);
          commands.eval(COUNT_MISS, 1, `${opts.prefix}miss:${name}:${key}`, windowMs).then(
            (reply) => {
              const [count, ttl] = reply as [number, number];
              if (count < limit) return;
              const block: Block = { name, client: key, until: now + ttl };
              remember(block);
              commands.publish(channel, JSON.stringify(block)).catch(() => {
                // The others learn it at their own next miss from this client.
              });
            },
            () => {
              // Redis is away: this miss counted here only.
            },
          );
        },
      };
    },
    async close() {
      commands.disconnect();
      listener.disconnect();
    },
  };
}
