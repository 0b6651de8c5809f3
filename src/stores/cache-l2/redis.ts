/**
 * Fleet-wide second cache level on Redis (README "Running several replicas"). A record is a hash `cache:<key>`
 * { k: kind, f: fetchedAt, p: payload } with a PX expiry; the refresh lock is `cache-lock:<key>` (SET NX PX, a random
 * token, released only by its holder). Failures never escape: a Redis that is down or slow reads as `unavailable`, a
 * write is skipped, and the first failure after a success (and the first success after failures) is logged once.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { RedisConnections } from '../../platform/redis.ts';
import type { CacheL2, L2Lock, L2Read, L2Record } from './types.ts';

/**
 * Stores a record unless a newer one is there. KEYS[1] record; ARGV: fetchedAt, kind, payload, ttl ms, and the
 * fetchedAt the stored record must have ('' = any not newer than ours). Returns 1 when stored, 0 otherwise.
 */
const PUT_LUA = `
local current = redis.call('HGET', KEYS[1], 'f')
if ARGV[5] ~= '' then
  if current ~= ARGV[5] then return 0 end
elseif current and tonumber(current) > tonumber(ARGV[1]) then
  return 0
end
redis.call('HSET', KEYS[1], 'k', ARGV[2], 'f', ARGV[1], 'p', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1`;

/** Deletes the lock KEYS[1] only while it still holds this holder's token ARGV[1]. Returns 1 when released. */
const UNLOCK_LUA = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

interface L2Commands {
  cacheL2Put(
    key: string,
    fetchedAt: string,
    kind: string,
    payload: string,
    ttlMs: string,
    ifFetchedAt: string,
  ): Promise<number>;
  cacheL2Unlock(key: string, token: string): Promise<number>;
}

export class RedisCacheL2 implements CacheL2 {
  readonly shared = true;
  private readonly redis: Redis & L2Commands;
  private available = true;

  constructor(
    connections: RedisConnections,
    private readonly logger: Logger,
  ) {
    const redis = connections.command;
    redis.defineCommand('cacheL2Put', { numberOfKeys: 1, lua: PUT_LUA });
    redis.defineCommand('cacheL2Unlock', { numberOfKeys: 1, lua: UNLOCK_LUA });
    this.redis = redis as Redis & L2Commands;
  }

  async get(key: string): Promise<L2Read> {
    try {
      const hash = await this.redis.hgetall(`cache:${key}`);
      this.ok();
      if (hash.k === undefined || hash.f === undefined || hash.p === undefined) return { state: 'absent' };
      return {
        state: 'found',
        record: { kind: hash.k === 'r' ? 'refusal' : 'value', fetchedAt: Number(hash.f), payload: hash.p },
      };
    } catch (error) {
      this.failed(error);
      return { state: 'unavailable' };
    }
  }

  async put(key: string, record: L2Record, ttlMs: number, options: { ifFetchedAt?: number } = {}): Promise<boolean> {
    try {
      const stored = await this.redis.cacheL2Put(
        `cache:${key}`,
        String(Math.trunc(record.fetchedAt)),
        record.kind === 'refusal' ? 'r' : 'v',
        record.payload,
        String(Math.max(1, Math.ceil(ttlMs))),
        options.ifFetchedAt === undefined ? '' : String(Math.trunc(options.ifFetchedAt)),
      );
      this.ok();
      return stored === 1;
    } catch (error) {
      this.failed(error);
      return false;
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await this.redis.del(`cache:${key}`);
      this.ok();
    } catch (error) {
      this.failed(error);
    }
  }

  async tryLock(key: string, leaseMs: number): Promise<L2Lock> {
    const token = randomUUID();
    try {
      const set = await this.redis.set(`cache-lock:${key}`, token, 'PX', Math.max(1, Math.ceil(leaseMs)), 'NX');
      this.ok();
      return set === 'OK' ? { state: 'acquired', token } : { state: 'held' };
    } catch (error) {
      this.failed(error);
      return { state: 'unavailable' };
    }
  }

  async unlock(key: string, token: string): Promise<void> {
    try {
      await this.redis.cacheL2Unlock(`cache-lock:${key}`, token);
      this.ok();
    } catch (error) {
      this.failed(error);
    }
  }

  private ok(): void {
    if (this.available) return;
    this.available = true;
    this.logger.info({ store: 'cache-l2' }, 'cache L2: Redis answers again; shared cache back in use');
  }

  private failed(error: unknown): void {
    if (!this.available) return;
    this.available = false;
    const err = error instanceof Error ? { name: error.name, message: error.message } : { message: String(error) };
    this.logger.warn({ store: 'cache-l2', err }, 'cache L2: Redis unavailable; reading from L1 and the upstream');
  }
}
