/**
 * The purchase-record stores (src/stores/purchase-records): the contract both implementations keep (types.ts), and
 * the Redis one's lease, renewal, takeover rules, TTL and failure mode against a real redis-server of the test's own.
 * Leases are Redis (real) time: they are kept short here and waited for with real sleeps of a few hundred ms.
 */
import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/platform/clock.ts';
import { createRedisConnections, type RedisConnections, RedisUnavailableError } from '../../src/platform/redis.ts';
import { MemoryPurchaseRecords } from '../../src/stores/purchase-records/memory.ts';
import { RedisPurchaseRecords } from '../../src/stores/purchase-records/redis.ts';
import type { PurchaseClaim, PurchaseRecordStore } from '../../src/stores/purchase-records/types.ts';
import { type RedisServer, startRedisServer } from '../support/redis-server.ts';
import { until } from '../support/until.ts';

type Outcome = { kind: string; id?: string };
const DAY_MS = 86_400_000;
const LEASE_MS = 300;
const REQUEST = { fingerprint: 'fp-1', reference: 'gw-0123456789abcdef0123' };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let server: RedisServer;
let redis: RedisConnections;

beforeAll(async () => {
  server = await startRedisServer();
  redis = createRedisConnections(
    { url: server.url, keyPrefix: 'records-test:', commandTimeoutMs: 200 },
    pino({ level: 'silent' }),
  );
  await until(() => redis.state === 'up');
});
afterAll(async () => {
  await redis?.close();
  await server?.stop();
});
beforeEach(() => {
  server.cli('FLUSHALL');
});

const implementations: [string, () => PurchaseRecordStore<Outcome>][] = [
  [
    'memory',
    () =>
      new MemoryPurchaseRecords<Outcome>({ ttlMs: DAY_MS, maxKeys: 100, pinUnknownMs: 0, clock: createManualClock() }),
  ],
  ['redis', () => new RedisPurchaseRecords<Outcome>({ redis, ttlMs: DAY_MS, leaseMs: LEASE_MS })],
];

async function claimed(store: PurchaseRecordStore<Outcome>, key = 'k', request = REQUEST): Promise<PurchaseClaim> {
  const result = await store.claim('partner:a', key, request);
  if (result.kind !== 'claimed') throw new Error(`expected a claim, got ${result.kind}`);
  return result.claim;
}

describe.each(implementations)('purchase records (%s): the contract', (_name, create) => {
  it('a fresh key is claimed; while the claim is held another claim is busy and sees the submit mark', async () => {
    const store = create();
    const claim = await claimed(store);
    expect(await store.markSubmitting(claim, 1_000)).toBe(true);
    expect(await store.claim('partner:a', 'k', REQUEST)).toEqual({
      kind: 'busy',
      record: { state: 'running', ...REQUEST, submittingSince: 1_000 },
    });
  });

  it('another fingerprint under the key is a mismatch, whatever state the record is in', async () => {
    const store = create();
    const claim = await claimed(store);
    const other = { ...REQUEST, fingerprint: 'fp-2' };
    expect(await store.claim('partner:a', 'k', other)).toEqual({ kind: 'mismatch' });
    await store.settle(claim, { state: 'failed', ...REQUEST, outcome: { kind: 'failure' } });
    expect(await store.claim('partner:a', 'k', other)).toEqual({ kind: 'mismatch' });
  });

  it('a settled key is replayed, never claimed again', async () => {
    const store = create();
    const claim = await claimed(store);
    await store.settle(claim, { state: 'succeeded', ...REQUEST, outcome: { kind: 'success', id: 'o-1' } });
    const again = await store.claim('partner:a', 'k', REQUEST);
    expect(again).toEqual({
      kind: 'settled',
      record: { state: 'succeeded', ...REQUEST, outcome: { kind: 'success', id: 'o-1' } },
    });
  });

  it('an unknown record is taken over by the next claim, which gets it as `previous` to reconcile', async () => {
    const store = create();
    const claim = await claimed(store);
    await store.settle(claim, { state: 'unknown', ...REQUEST, since: 1_234 });
    const next = await store.claim('partner:a', 'k', REQUEST);
    expect(next).toMatchObject({ kind: 'claimed', previous: { state: 'unknown', since: 1_234 } });
  });

  it('a released key is forgotten: the next claim is fresh', async () => {
    const store = create();
    await store.release(await claimed(store));
    expect(await store.get('partner:a', 'k')).toBeUndefined();
    const next = await store.claim('partner:a', 'k', REQUEST);
    expect(next.kind).toBe('claimed');
    expect(next).not.toHaveProperty('previous');
  });

  it('keys are scoped by principal', async () => {
    const store = create();
    await claimed(store);
    expect((await store.claim('partner:b', 'k', REQUEST)).kind).toBe('claimed');
  });
});

describe('purchase records in Redis: leases, takeover and failure', () => {
  const create = () => new RedisPurchaseRecords<Outcome>({ redis, ttlMs: DAY_MS, leaseMs: LEASE_MS });

  it('a renewed claim outlives its lease; once renewals stop it is taken over with its submit mark, and the old holder can no longer mark, settle (except a success) or release', async () => {
    const store = create();
    const a = await claimed(store);
    expect(await store.markSubmitting(a, 5_000)).toBe(true);
    for (let i = 0; i < 6; i++) {
      await sleep(LEASE_MS / 3);
      expect(await store.renew(a)).toBe(true);
    }
    // 600 ms after the claim, twice the lease: still held.
    expect((await store.claim('partner:a', 'k', REQUEST)).kind).toBe('busy');

    await sleep(LEASE_MS + 100);
    const taken = await store.claim('partner:a', 'k', REQUEST);
    expect(taken).toMatchObject({ kind: 'claimed', previous: { state: 'running', submittingSince: 5_000 } });
    const b = (taken as { claim: PurchaseClaim }).claim;

    expect(await store.renew(a)).toBe(false);
    expect(await store.markSubmitting(a, 6_000)).toBe(false);
    await store.settle(a, { state: 'unknown', ...REQUEST, since: 6_000 });
    await store.settle(a, { state: 'failed', ...REQUEST, outcome: { kind: 'failure' } });
    await store.release(a);
    expect(await store.get('partner:a', 'k')).toEqual({ state: 'running', ...REQUEST, submittingSince: 5_000 });
    expect((await store.claim('partner:a', 'k', REQUEST)).kind).toBe('busy'); // b holds it

    // A success is written whoever holds the key: the order exists.
    await store.settle(a, { state: 'succeeded', ...REQUEST, outcome: { kind: 'success', id: 'o-a' } });
    expect(await store.get('partner:a', 'k')).toMatchObject({ state: 'succeeded', outcome: { id: 'o-a' } });
    // … final: b (still holding the lease) may not mark it submitting, settle it otherwise or release it.
    expect(await store.markSubmitting(b, 7_000)).toBe(false);
    await store.settle(b, { state: 'unknown', ...REQUEST, since: 7_000 });
    await store.release(b);
    expect(await store.get('partner:a', 'k')).toMatchObject({ state: 'succeeded', outcome: { id: 'o-a' } });
    expect(await store.claim('partner:a', 'k', REQUEST)).toMatchObject({ kind: 'settled' });
  });

  it('a claim that dies before its submit mark is taken over as a running record without one (a fresh search and submit)', async () => {
    const store = create();
    await claimed(store);
    await sleep(LEASE_MS + 100);
    const taken = await store.claim('partner:a', 'k', REQUEST);
    expect(taken).toMatchObject({ kind: 'claimed', previous: { state: 'running' } });
    expect((taken as { previous: object }).previous).not.toHaveProperty('submittingSince');
  });

  it('records are kept for the idempotency TTL, the lease for the lease time; Redis holds neither the principal nor the key', async () => {
    const store = create();
    const claim = await store.claim('partner:secret-name', 'client-key-42', REQUEST);
    const keys = server.cli('KEYS', '*').split('\n').sort();
    expect(keys).toHaveLength(2);
    expect(keys.join(' ')).not.toMatch(/secret-name|client-key-42/);
    const [lease, record] = keys as [string, string];
    expect(record).toMatch(/^records-test:purchase:\{[0-9a-f]{32}\}:record$/);
    expect(Number(server.cli('PTTL', lease))).toBeLessThanOrEqual(LEASE_MS);
    expect(Number(server.cli('PTTL', record))).toBeGreaterThan(DAY_MS - 10_000);
    await store.settle((claim as { claim: PurchaseClaim }).claim, {
      state: 'succeeded',
      ...REQUEST,
      outcome: { kind: 'success' },
    });
    expect(server.cli('KEYS', '*')).toBe(record); // the lease is gone with the claim
    expect(Number(server.cli('PTTL', record))).toBeGreaterThan(DAY_MS - 10_000);
  });

  it('60 concurrent claims of one key from 3 connections (3 replicas): exactly one is granted', async () => {
    const connections = [redis, ...[1, 2].map(() => connect())];
    try {
      await until(() => connections.every((c) => c.state === 'up'));
      const stores = connections.map(
        (c) => new RedisPurchaseRecords<Outcome>({ redis: c, ttlMs: DAY_MS, leaseMs: 5_000 }),
      );
      const results = await Promise.all(
        Array.from({ length: 60 }, (_, i) => stores[i % 3]!.claim('partner:a', 'race', REQUEST)),
      );
      expect(results.filter((r) => r.kind === 'claimed')).toHaveLength(1);
      expect(results.filter((r) => r.kind === 'busy')).toHaveLength(59);
    } finally {
      await Promise.all(connections.slice(1).map((c) => c.close()));
    }
  });

  it('an unreadable record fails closed (RedisUnavailableError), never as "no record"', async () => {
    const store = create();
    await claimed(store);
    const [, record] = server.cli('KEYS', '*').split('\n').sort() as [string, string];
    server.cli('SET', record, 'not json');
    await expect(store.claim('partner:a', 'k', REQUEST)).rejects.toThrow();
  });

  it('Redis down: every operation rejects at once with RedisUnavailableError; back (empty): claims work again', async () => {
    const store = create();
    const claim = await claimed(store, 'before');
    await server.stop();
    await until(() => redis.state === 'down');
    const started = performance.now();
    await expect(store.claim('partner:a', 'k', REQUEST)).rejects.toBeInstanceOf(RedisUnavailableError);
    await expect(store.markSubmitting(claim, 1)).rejects.toBeInstanceOf(RedisUnavailableError);
    await expect(store.renew(claim)).rejects.toBeInstanceOf(RedisUnavailableError);
    expect(performance.now() - started).toBeLessThan(150);

    await server.restart();
    await until(() => redis.state === 'up');
    expect(await store.markSubmitting(claim, 1)).toBe(false); // the claim did not survive the empty restart
    expect((await store.claim('partner:a', 'k', REQUEST)).kind).toBe('claimed');
  });

  it('Redis hung: an operation rejects after the command timeout', async () => {
    const store = create();
    server.pause();
    try {
      const started = performance.now();
      await expect(store.claim('partner:a', 'k', REQUEST)).rejects.toBeInstanceOf(RedisUnavailableError);
      expect(performance.now() - started).toBeLessThan(600);
    } finally {
      server.resume();
    }
    await until(() => redis.state === 'up');
  });
});

function connect(): RedisConnections {
  return createRedisConnections(
    { url: server.url, keyPrefix: 'records-test:', commandTimeoutMs: 200 },
    pino({ level: 'silent' }),
  );
}
