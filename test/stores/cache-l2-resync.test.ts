/**
 * ResourceCache with the Redis second level when invalidation messages were lost (the bus was interrupted): after
 * `markAllUnverified` (what a bus resync triggers) each L1 entry is re-checked against L2 on its next read — a newer
 * record replaces it, and an entry L2 lost (Redis restarted empty) is written back instead of being dropped.
 */
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ResourceCache } from '../../src/domain/cache/index.ts';
import { type Demand, UpstreamScheduler } from '../../src/domain/scheduler/index.ts';
import { createManualClock } from '../../src/platform/clock.ts';
import { createRedisConnections, type RedisConnections } from '../../src/platform/redis.ts';
import { MemoryBudgetStore } from '../../src/stores/budgets/memory.ts';
import { RedisCacheL2 } from '../../src/stores/cache-l2/redis.ts';
import { type RedisServer, startRedisServer } from '../support/redis-server.ts';

const FG: Demand = { priority: 'foreground', principal: 'test' };
let server: RedisServer;
let redis: RedisConnections;

beforeAll(async () => {
  server = await startRedisServer();
  redis = createRedisConnections(
    { url: server.url, keyPrefix: 'gw-rs:', commandTimeoutMs: 200 },
    pino({ level: 'silent' }),
  );
  const deadline = performance.now() + 5_000;
  while (redis.state !== 'up' && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
});
afterAll(async () => {
  await redis?.close();
  await server?.stop();
});

describe('ResourceCache after lost invalidations', () => {
  it('re-checks every L1 entry against L2 on its next read, adopting newer records and restoring lost ones', async () => {
    const clock = createManualClock();
    const l2 = new RedisCacheL2(redis, pino({ level: 'silent' }));
    const upstream = 1;
    const calls: string[] = [];
    // Two replicas' caches on one L2 and no bus between them: every message between them is "lost".
    const replica = () =>
      new ResourceCache<number>({
        name: 'usage',
        max: 100,
        ttlMs: 60_000,
        maxStaleMs: 60_000,
        clock,
        scheduler: new UpstreamScheduler({
          limits: { endpoints: {}, all: [] },
          waits: { foregroundWaitMs: 1_500, deferredWaitMs: 10_000 },
          store: new MemoryBudgetStore(),
          clock,
        }),
        endpoint: 'usage',
        shared: { l2, namespace: 'v1:pressone:usage', lockLeaseMs: 1_000 },
        load: async (key) => {
          calls.push(key);
          return upstream;
        },
      });
    const [a, b] = [replica(), replica()];
    expect((await a.get('1', FG)).value).toBe(1);
    expect((await b.get('1', FG)).value).toBe(1); // from L2
    expect(calls).toEqual(['1']);

    clock.advance(1_000);
    a.prime('1', 2); // a newer value on A, written to L2; B's L1 still holds 1
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect((await b.get('1', FG)).value).toBe(1); // no message reached B: its L1 hit, Redis untouched
    b.markAllUnverified();
    expect((await b.get('1', FG)).value).toBe(2);
    expect(calls).toEqual(['1']);

    // Redis restarted empty: B's entry is written back on its re-check rather than dropped.
    expect((await b.get('2', FG)).value).toBe(1);
    server.cli('FLUSHALL');
    b.markAllUnverified();
    expect((await b.get('2', FG)).value).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(server.cli('EXISTS', 'gw-rs:cache:v1:pressone:usage:2')).toBe('1');
    expect((await a.get('2', FG)).value).toBe(1); // A reads what B restored
    expect(calls).toEqual(['1', '2']);
  });
});
