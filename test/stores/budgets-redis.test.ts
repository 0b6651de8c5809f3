/**
 * The fleet-wide budget store against a real redis-server of the test's own: the Lua script's window edges with the
 * injected clock passed as `now`, blocks, atomicity across connections, and the local fallback on a cut share while
 * Redis is down or hung — back to Redis by itself when it returns.
 */
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/platform/clock.ts';
import { createRedisConnections, type RedisConnections } from '../../src/platform/redis.ts';
import { RedisBudgetStore } from '../../src/stores/budgets/redis.ts';
import { type RedisServer, startRedisServer } from '../support/redis-server.ts';
import { until } from '../support/until.ts';

let server: RedisServer;
const connections: RedisConnections[] = [];

async function store(fallbackShare = 0.5, logger = pino({ level: 'silent' })): Promise<RedisBudgetStore> {
  const redis = createRedisConnections({ url: server.url, keyPrefix: 'bt:', commandTimeoutMs: 150 }, logger);
  connections.push(redis);
  await until(() => redis.state === 'up');
  return new RedisBudgetStore(redis, { fallbackShare, logger });
}

let scopeSeq = 0;
/** A scope no other test uses (the server is shared by the file). */
const freshScope = () => `s${++scopeSeq}`;

beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(async () => {
  await Promise.all(connections.map((c) => c.close()));
  await server?.stop();
});

describe('Redis budget store: the acquire script', () => {
  it('grants `limit` calls per sliding window, answers the wait to the millisecond, and frees a call exactly windowMs after it', async () => {
    const s = await store();
    const scope = freshScope();
    const clock = createManualClock();
    const t0 = clock.now();
    expect(await s.acquire(scope, 'a', 2, 60_000, t0)).toBe(0);
    expect(await s.acquire(scope, 'a', 2, 60_000, t0 + 10)).toBe(0);
    expect(await s.acquire(scope, 'a', 2, 60_000, t0 + 20)).toBe(59_980);
    expect(await s.acquire(scope, 'a', 2, 60_000, t0 + 59_999)).toBe(1);
    // The call at t0 counts while t0 > now − window: at t0 + 60 000 it no longer does.
    expect(await s.acquire(scope, 'a', 2, 60_000, t0 + 60_000)).toBe(0);
    expect(await s.acquire(scope, 'a', 2, 60_000, t0 + 60_001)).toBe(9);
    expect(await s.acquire(scope, 'b', 2, 60_000, t0 + 60_001)).toBe(0);
    expect(s.fallbackDecisions).toBe(0);
  });

  it('records nothing when it denies: hammering a full window does not push its end', async () => {
    const s = await store();
    const scope = freshScope();
    expect(await s.acquire(scope, 'a', 1, 900_000, 0)).toBe(0);
    for (let t = 1; t < 100; t++) await s.acquire(scope, 'a', 1, 900_000, t * 1_000);
    expect(await s.acquire(scope, 'a', 1, 900_000, 900_000)).toBe(0);
    expect(server.cli('ZCARD', `bt:budget:{${scope}:a}:calls`)).toBe('1');
  });

  it('holds a block for its full length, never shortened by a shorter one, for limited and unlimited budgets', async () => {
    const s = await store();
    const scope = freshScope();
    await s.block(scope, 'a', 900_000, 0);
    await s.block(scope, 'a', 1_000, 0);
    expect(await s.acquire(scope, 'a', 100, 60_000, 899_999)).toBe(1);
    expect(await s.acquire(scope, 'a', Number.POSITIVE_INFINITY, 1, 899_999)).toBe(1);
    expect(await s.acquire(scope, 'a', 100, 60_000, 900_000)).toBe(0);
    for (let i = 0; i < 50; i++) expect(await s.acquire(scope, 'b', Number.POSITIVE_INFINITY, 1, 0)).toBe(0);
    // Unlimited budgets record nothing; a block's key lives until it ends.
    expect(server.cli('EXISTS', `bt:budget:{${scope}:b}:calls`)).toBe('0');
    expect(Number(server.cli('PTTL', `bt:budget:{${scope}:a}:block`))).toBeGreaterThan(800_000);
  });

  it('is one atomic decision: 300 concurrent calls from three replicas against a limit of 100 → exactly 100 granted', async () => {
    const replicas = [await store(), await store(), await store()];
    const scope = freshScope();
    const decisions = await Promise.all(
      Array.from({ length: 300 }, (_, i) => replicas[i % 3]!.acquire(scope, 'a', 100, 60_000, 1_000 + i)),
    );
    expect(decisions.filter((w) => w === 0)).toHaveLength(100);
    expect(server.cli('ZCARD', `bt:budget:{${scope}:a}:calls`)).toBe('100');
  });
});

describe('Redis budget store: Redis unavailable', () => {
  it('decides locally on floor(limit × share) while Redis is down (a tiny limit grants nothing), fleet-wide again once it is back', async () => {
    const lines: { msg: string }[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
    const s = await store(0.5, logger);
    const redis = connections.at(-1)!;
    const scope = freshScope();
    // A call the fleet granted this replica is counted by the local fallback too.
    expect(await s.acquire(scope, 'a', 4, 60_000, 0)).toBe(0);
    await server.stop();
    await until(() => redis.state === 'down');
    const started = performance.now();
    const local = [];
    for (let i = 1; i <= 4; i++) local.push(await s.acquire(scope, 'a', 4, 60_000, i));
    expect(performance.now() - started).toBeLessThan(100); // no waiting on a Redis that is down
    expect(local.map((w) => w === 0)).toEqual([true, false, false, false]); // 2 = floor(4 × 0.5), 1 already used
    expect(await s.acquire(scope, 'h', 1, 900_000, 0)).toBe(900_000); // history: 1 × 0.5 cannot be shared
    expect(s.fallbackDecisions).toBe(5);
    await s.block(scope, 'b', 30_000, 0); // recorded locally while Redis is down
    expect(await s.acquire(scope, 'b', 4, 60_000, 10_000)).toBe(20_000);

    await server.restart();
    await until(() => redis.state === 'up');
    expect(await s.acquire(scope, 'c', 4, 60_000, 20)).toBe(0);
    expect(server.cli('ZCARD', `bt:budget:{${scope}:c}:calls`)).toBe('1');
    expect(s.fallbackDecisions).toBe(6);
    expect(lines.map((l) => l.msg)).toEqual(
      expect.arrayContaining([
        'call budgets decided locally on a cut share until Redis answers again',
        'call budgets decided fleet-wide again',
      ]),
    );
  });

  it('falls back within the command timeout when Redis hangs', async () => {
    const s = await store(0.25);
    const scope = freshScope();
    server.pause();
    try {
      const started = performance.now();
      expect(await s.acquire(scope, 'a', 100, 60_000, 0)).toBe(0);
      expect(performance.now() - started).toBeLessThan(400);
      expect(s.fallbackDecisions).toBe(1);
    } finally {
      server.resume();
    }
  });
});

describe('Redis budget store: several budgets in one decision (acquireAll)', () => {
  const budgets = (scope: string, iccid: string) => [
    { scope: `${scope}#i0`, key: iccid, limit: 5, windowMs: 60_000 },
    { scope: `${scope}#p0`, key: '', limit: 100, windowMs: 60_000 },
    { scope, key: '*', limit: Number.POSITIVE_INFINITY, windowMs: 1 },
  ];

  it('is one atomic decision across replicas: all budgets recorded or none, no budget over its limit', async () => {
    const replicas = [await store(), await store(), await store()];
    const scope = freshScope();
    // 300 concurrent calls over 30 ICCIDs, 10 each: per ICCID 5 a minute, 100 a minute for the partner.
    const decisions = await Promise.all(
      Array.from({ length: 300 }, (_, i) => replicas[i % 3]!.acquireAll(budgets(scope, `sim${i % 30}`), 1_000 + i)),
    );
    expect(decisions.filter((d) => d === 0)).toHaveLength(100);
    expect(server.cli('ZCARD', `bt:budget:{${scope}#p0:}:calls`)).toBe('100');
    let perIccid = 0;
    for (let i = 0; i < 30; i++) {
      const calls = Number(server.cli('ZCARD', `bt:budget:{${scope}#i0:sim${i}}:calls`));
      expect(calls).toBeLessThanOrEqual(5);
      perIccid += calls;
    }
    // A call the partner budget refused spent no ICCID's slot: the ICCIDs together hold exactly the granted calls.
    expect(perIccid).toBe(100);
  });

  it('answers every budget’s wait and recorded calls when it refuses; inspect records nothing; blocks count', async () => {
    const s = await store();
    const scope = freshScope();
    for (let i = 0; i < 5; i++) expect(await s.acquireAll(budgets(scope, 'a'), 1_000 * i)).toBe(0);
    const refused = await s.acquireAll(budgets(scope, 'a'), 10_000);
    expect(refused).toEqual({
      waits: [50_000, 0, 0], // the oldest of its 5 calls leaves the window at 60 s
      calls: [[0, 1_000, 2_000, 3_000, 4_000], [0, 1_000, 2_000, 3_000, 4_000], []],
    });
    expect(await s.inspect(budgets(scope, 'b'), 10_000)).toEqual({
      waits: [0, 0, 0],
      calls: [[], [0, 1_000, 2_000, 3_000, 4_000], []],
    });
    expect(server.cli('ZCARD', `bt:budget:{${scope}#p0:}:calls`)).toBe('5');
    await s.block(scope, '*', 40_000, 10_000);
    expect(await s.acquireAll(budgets(scope, 'b'), 10_000)).toMatchObject({ waits: [0, 0, 30_000] });
    expect(s.fallbackDecisions).toBe(0);
  });

  it('decides locally on floor(limit × share) while Redis is down, and fleet-wide again once it is back', async () => {
    const s = await store(0.5);
    const redis = connections.at(-1)!;
    const scope = freshScope();
    expect(await s.acquireAll(budgets(scope, 'a'), 0)).toBe(0); // recorded locally too
    await server.stop();
    await until(() => redis.state === 'down');
    const local = [];
    for (let i = 1; i <= 3; i++) local.push(await s.acquireAll(budgets(scope, 'a'), i));
    // floor(5 × 0.5) = 2 for the ICCID, one of them already used.
    expect(local.map((d) => d === 0)).toEqual([true, false, false]);
    expect(s.fallbackDecisions).toBe(3);
    await server.restart();
    await until(() => redis.state === 'up');
    expect(await s.acquireAll(budgets(scope, 'c'), 10)).toBe(0);
    expect(s.fallbackDecisions).toBe(3);
  });
});
