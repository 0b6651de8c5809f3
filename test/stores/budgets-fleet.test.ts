/**
 * Call budgets and 429 blocks across three in-process gateways on one sandbox and one real Redis: the fleet spends
 * the upstream's per-ICCID limits once, a 429 seen by one replica holds for all, and with Redis down every replica
 * keeps to its configured share. Upstream calls and 429s are counted at the sandbox.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Harness } from '../support/harness.ts';
import { type RedisServer, startRedisServer } from '../support/redis-server.ts';
import { startFleet, until } from './fleet-helpers.ts';

let server: RedisServer;
let h: Harness | undefined;

beforeAll(async () => {
  server = await startRedisServer();
});
afterEach(async () => {
  await h?.close();
  h = undefined;
});
afterAll(async () => {
  await server?.stop();
});

const HISTORY = `query ($iccid: ID!) { sim(iccid: $iccid) { packageHistory { status } } }`;
const USAGE = `query ($iccid: ID!) { sim(iccid: $iccid) { usage { remainingMb stale } } }`;

describe('call budgets across a fleet sharing Redis', () => {
  it('three gateways reading one SIM’s history concurrently → 1 upstream call, 0 upstream 429s, served by all three (in memory: 3 calls, 2 answered 429)', async () => {
    for (const redis of [server, undefined]) {
      h = await startFleet(redis);
      const iccid = h.sandbox.control.iccids()[0]!;
      const results = await Promise.all(h.replicas.map((r) => r.gql(HISTORY, { iccid })));
      const served = results.filter((r) => r.data?.sim?.packageHistory);
      const limited = results.filter((r) => r.errors?.[0]?.extensions?.code === 'RATE_LIMITED');
      const calls = h.sandbox.control.countCalls({ endpoint: 'packages', iccid });
      const upstream429s = h.sandbox.control.countCalls({ endpoint: 'packages', status: 429 });
      if (redis) {
        expect({ calls, upstream429s, served: served.length, limited: limited.length }).toEqual({
          calls: 1,
          upstream429s: 0,
          // One replica reads; the other two serve its answer from the shared cache level.
          served: 3,
          limited: 0,
        });
      } else {
        // The control: one process's budget knows nothing of the others'.
        expect({ calls, upstream429s }).toEqual({ calls: 3, upstream429s: 2 });
      }
      await h.close();
      h = undefined;
    }
  });

  it('a 429 seen by replica A blocks replica B for the whole Retry-After, without B calling the upstream', async () => {
    h = await startFleet(server);
    const [a, b] = h.replicas;
    const iccid = h.sandbox.control.iccids()[1]!;
    const fault = h.sandbox.control.addFault({ endpoint: 'usage', iccid, rateLimit: { retryAfterSeconds: 120 } });
    const first = await a!.gql(USAGE, { iccid });
    expect(first.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
    h.sandbox.control.removeFault(fault);
    expect(h.sandbox.control.countCalls({ endpoint: 'usage', iccid })).toBe(1);

    // 2 s before the block ends: more than a foreground read may wait (README "How the scheduler decides").
    h.clock.advance(118_000);
    const blocked = await b!.gql(USAGE, { iccid });
    expect(blocked.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED', retryAfterSeconds: 2 });
    expect(h.sandbox.control.countCalls({ endpoint: 'usage', iccid })).toBe(1);

    h.clock.advance(2_000);
    const after = await b!.gql(USAGE, { iccid });
    expect(after.errors).toBeUndefined();
    expect(after.data?.sim?.usage).toBeTruthy();
    expect(h.sandbox.control.countCalls({ endpoint: 'usage', iccid })).toBe(2);
  });

  it('Redis stopped → each replica keeps to floor(limit × REDIS_FALLBACK_BUDGET_SHARE), so the fleet stays within the limit; back to the shared budget when Redis returns', async () => {
    // usage 6/min; three replicas at a third each → 2 each → 6 together; every read is a miss (TTL 0).
    h = await startFleet(
      server,
      {
        UPSTREAM_USAGE_LIMIT_PER_MINUTE: '6',
        REDIS_FALLBACK_BUDGET_SHARE: '0.34',
        CACHE_USAGE_TTL_SECONDS: '0',
        CACHE_STALE_WHILE_REVALIDATE_SECONDS: '0',
      },
      { usageLimitPerMinute: 6 },
    );
    const iccid = h.sandbox.control.iccids()[2]!;
    await server.stop();
    await until(() => h!.replicas.every((r) => r.gateway.stores.redis?.state === 'down'));
    const answers = [];
    for (const replica of h.replicas) for (let i = 0; i < 5; i++) answers.push(await replica.gql(USAGE, { iccid }));
    expect(h.sandbox.control.countCalls({ endpoint: 'usage', iccid })).toBe(6);
    expect(h.sandbox.control.countCalls({ status: 429 })).toBe(0);
    // Past its share a replica serves the last value marked stale: no client error.
    expect(answers.every((r) => r.errors === undefined && r.data?.sim?.usage)).toBe(true);
    expect(answers.filter((r) => r.data?.sim?.usage?.stale)).toHaveLength(9);

    await server.restart();
    await until(() => h!.replicas.every((r) => r.gateway.stores.redis?.state === 'up'));
    h.clock.advance(60_000);
    h.sandbox.control.resetCalls();
    // One replica alone may now spend the fleet's whole limit again, and not one call more.
    for (let i = 0; i < 8; i++) await h.replicas[0]!.gql(USAGE, { iccid });
    expect(h.sandbox.control.countCalls({ endpoint: 'usage', iccid })).toBe(6);
    expect(h.sandbox.control.countCalls({ status: 429 })).toBe(0);
  });
});
