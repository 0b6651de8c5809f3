/**
 * The Redis cache-L2 store against a real redis-server of the test's own: records never go back in time, a patch
 * applies only to the record it read, one refresh lock per key released only by its holder, prefixed keys, and a
 * Redis that is down or hung reads as `unavailable` within the command timeout instead of throwing or waiting.
 */
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisConnections, type RedisConnections } from '../../src/platform/redis.ts';
import { MemoryCacheL2 } from '../../src/stores/cache-l2/memory.ts';
import { RedisCacheL2 } from '../../src/stores/cache-l2/redis.ts';
import { type RedisServer, startRedisServer } from '../support/redis-server.ts';
import { until } from '../support/until.ts';

let server: RedisServer;
let redis: RedisConnections;
let l2: RedisCacheL2;
const logged: { level: number; msg: string }[] = [];

beforeAll(async () => {
  server = await startRedisServer();
  const logger = pino(
    { level: 'info' },
    { write: (line: string) => void logged.push(JSON.parse(line) as { level: number; msg: string }) },
  );
  redis = createRedisConnections({ url: server.url, keyPrefix: 'gw-l2:', commandTimeoutMs: 150 }, logger);
  l2 = new RedisCacheL2(redis, logger);
  await until(() => redis.state === 'up');
});
afterAll(async () => {
  await redis?.close();
  await server?.stop();
});

const value = (fetchedAt: number, payload: string) => ({ kind: 'value' as const, fetchedAt, payload });

describe('RedisCacheL2', () => {
  it('stores under the key prefix with an expiry, and never replaces a record with an older one', async () => {
    expect(await l2.get('v1:pressone:usage:1')).toEqual({ state: 'absent' });
    expect(await l2.put('v1:pressone:usage:1', value(2_000, '"new"'), 60_000)).toBe(true);
    expect(await l2.put('v1:pressone:usage:1', value(1_000, '"old"'), 60_000)).toBe(false);
    expect(await l2.get('v1:pressone:usage:1')).toEqual({ state: 'found', record: value(2_000, '"new"') });
    const ttl = Number(server.cli('PTTL', 'gw-l2:cache:v1:pressone:usage:1'));
    expect(ttl).toBeGreaterThan(50_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
    expect(await l2.put('v1:pressone:usage:1', { kind: 'refusal', fetchedAt: 3_000, payload: '{}' }, 1_000)).toBe(true);
    expect(await l2.get('v1:pressone:usage:1')).toMatchObject({ state: 'found', record: { kind: 'refusal' } });
  });

  it('patches only the record fetched at the time the patch was read from', async () => {
    await l2.put('h', value(5_000, '[1]'), 60_000);
    expect(await l2.put('h', value(5_000, '[1,2]'), 60_000, { ifFetchedAt: 4_000 })).toBe(false);
    expect(await l2.put('h', value(5_000, '[1,2]'), 60_000, { ifFetchedAt: 5_000 })).toBe(true);
    await l2.put('h', value(6_000, '[9]'), 60_000); // a refresh in between
    expect(await l2.put('h', value(5_000, '[1,2,3]'), 60_000, { ifFetchedAt: 5_000 })).toBe(false);
    expect(await l2.get('h')).toEqual({ state: 'found', record: value(6_000, '[9]') });
    await l2.delete('h');
    expect(await l2.get('h')).toEqual({ state: 'absent' });
  });

  it('grants one refresh lock per key, released only by its holder, expiring after its lease', async () => {
    const first = await l2.tryLock('k', 5_000);
    expect(first.state).toBe('acquired');
    expect((await l2.tryLock('k', 5_000)).state).toBe('held');
    await l2.unlock('k', 'someone-else');
    expect((await l2.tryLock('k', 5_000)).state).toBe('held');
    if (first.state === 'acquired') await l2.unlock('k', first.token);
    const second = await l2.tryLock('k', 50);
    expect(second.state).toBe('acquired');
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect((await l2.tryLock('k', 5_000)).state).toBe('acquired'); // the holder died: the lease ran out
  });

  it('reads as unavailable at once while Redis is down and within the timeout while it hangs; logs once per change', async () => {
    await l2.get('warm'); // a success first: the state is "available"
    logged.length = 0;
    server.pause();
    try {
      const started = performance.now();
      expect(await l2.get('x')).toEqual({ state: 'unavailable' });
      expect(await l2.tryLock('x', 1_000)).toEqual({ state: 'unavailable' });
      expect(await l2.put('x', value(1, '1'), 1_000)).toBe(false);
      expect(performance.now() - started).toBeLessThan(3 * 150 + 300);
    } finally {
      server.resume();
    }
    await server.stop();
    await until(() => redis.state === 'down');
    const started = performance.now();
    for (let i = 0; i < 20; i++) expect(await l2.get('x')).toEqual({ state: 'unavailable' });
    await l2.delete('x');
    await l2.unlock('x', 't');
    expect(performance.now() - started).toBeLessThan(100);
    await server.restart();
    await until(() => redis.state === 'up');
    expect(await l2.get('x')).toEqual({ state: 'absent' });
    const l2Logs = logged.filter((l) => l.msg.startsWith('cache L2'));
    expect(l2Logs.map((l) => l.level)).toEqual([40, 30]); // one warning, one recovery — not one per call
  });
});

describe('MemoryCacheL2 (no REDIS_URL)', () => {
  it('is not shared and holds nothing', async () => {
    const memory = new MemoryCacheL2();
    expect(memory.shared).toBe(false);
    expect(await memory.put()).toBe(false);
    expect(await memory.get()).toEqual({ state: 'absent' });
  });
});
