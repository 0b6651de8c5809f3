import { describe, expect, it } from 'vitest';
import {
  BudgetExhaustedError,
  CallAllowance,
  CallAllowanceExceededError,
  ResourceCache,
} from '../../src/domain/cache/index.ts';
import { type Demand, UpstreamScheduler } from '../../src/domain/scheduler/index.ts';
import { createManualClock } from '../../src/platform/clock.ts';
import { MemoryBudgetStore } from '../../src/stores/budgets/memory.ts';
import {
  UpstreamBusinessError,
  UpstreamNotFoundError,
  UpstreamRateLimitedError,
  UpstreamUnavailableError,
} from '../../src/upstream/index.ts';

function setup(
  options: {
    ttlMs?: number;
    maxStaleMs?: number;
    budget?: { limit: number; windowMs: number };
    negativeTtlMs?: number;
  } = {},
) {
  const clock = createManualClock();
  const calls: string[] = [];
  let next: (key: string, signal: AbortSignal) => Promise<number> = async () => calls.length;
  const scheduler = new UpstreamScheduler({
    limits: {
      endpoints: options.budget ? { usage: [{ ...options.budget, scope: 'per-iccid' }] } : {},
      all: [],
    },
    waits: { foregroundWaitMs: 1_500, deferredWaitMs: 10_000 },
    store: new MemoryBudgetStore(),
    clock,
  });
  const cache = new ResourceCache<number>({
    name: 'test',
    max: 100,
    ttlMs: options.ttlMs ?? 1_000,
    maxStaleMs: options.maxStaleMs ?? 10_000,
    clock,
    ...(options.negativeTtlMs ? { negativeTtlMs: options.negativeTtlMs } : {}),
    scheduler,
    endpoint: 'usage',
    load: (key, signal) => {
      calls.push(key);
      return next(key, signal);
    },
  });
  return { clock, calls, cache, scheduler, setLoad: (fn: typeof next) => (next = fn) };
}

/** A client waiting for its read. */
const FG: Demand = { priority: 'foreground', principal: 'test' };

describe('ResourceCache', () => {
  it('serves a fresh entry without calling, and calls again after the TTL', async () => {
    const { clock, calls, cache } = setup();
    expect((await cache.get('a', FG)).value).toBe(1);
    clock.advance(999);
    expect(await cache.get('a', FG)).toMatchObject({ value: 1, stale: false });
    clock.advance(1);
    expect((await cache.get('a', FG)).value).toBe(2);
    expect(calls).toEqual(['a', 'a']);
  });

  it('answers a fresh entry synchronously (`fresh`), counted as a hit; nothing past freshness, never a call', async () => {
    const { clock, calls, cache } = setup();
    expect(cache.fresh('a')).toBeUndefined();
    const read = await cache.get('a', FG);
    const hits = cache.stats.hits;
    expect(cache.fresh('a')).toBe(read); // the stored entry itself: no copy per read
    expect(cache.fresh('a', false)).toBe(read);
    expect(cache.stats.hits).toBe(hits + 1); // a look that is not a read is not counted
    clock.advance(1_000);
    expect(cache.fresh('a')).toBeUndefined(); // due for a refresh: `get` decides (stale, budget, call)
    expect(calls).toEqual(['a']);
    expect(await cache.get('a', FG)).toMatchObject({ value: 2, stale: false });
  });

  it('coalesces concurrent misses for a key into one call', async () => {
    const { calls, cache, setLoad } = setup();
    let release!: (v: number) => void;
    setLoad(() => new Promise((r) => (release = r)));
    const reads = Array.from({ length: 1000 }, () => cache.get('a', FG));
    release(7);
    const results = await Promise.all(reads);
    expect(results.every((r) => r.value === 7)).toBe(true);
    expect(calls).toHaveLength(1);
  });

  it('serves the old value marked stale when the budget denies a refresh, and errors when there is none', async () => {
    const { clock, calls, cache } = setup({ budget: { limit: 1, windowMs: 60_000 } });
    await cache.get('a', FG);
    clock.advance(5_000);
    expect(await cache.get('a', FG)).toMatchObject({ value: 1, stale: true });
    expect(calls).toHaveLength(1);
    const denied = setup({ budget: { limit: 1, windowMs: 60_000 } });
    await denied.cache.get('b', FG);
    denied.cache.invalidate('b');
    await expect(denied.cache.get('b', FG)).rejects.toBeInstanceOf(BudgetExhaustedError);
  });

  it('honours a 429 for its whole Retry-After, serving stale meanwhile', async () => {
    const { clock, calls, cache, scheduler, setLoad } = setup({ maxStaleMs: 3_600_000 });
    await cache.get('a', FG);
    clock.advance(2_000);
    setLoad(async (key) => {
      // What the transport does with every 429: tell the scheduler before anyone learns of it.
      const error = new UpstreamRateLimitedError('usage', 429, 600);
      await scheduler.rateLimited({ endpoint: 'usage', iccid: key }, error);
      throw error;
    });
    expect(await cache.get('a', FG)).toMatchObject({ value: 1, stale: true });
    for (let i = 0; i < 5; i++) {
      clock.advance(100_000);
      await cache.get('a', FG);
    }
    expect(calls).toHaveLength(2);
    clock.advance(100_000);
    setLoad(async () => 42);
    expect(await cache.get('a', FG)).toMatchObject({ value: 42, stale: false });
  });

  it('serves stale on 5xx within maxStaleMs, then gives up', async () => {
    const { clock, cache, setLoad } = setup({ ttlMs: 1_000, maxStaleMs: 5_000 });
    await cache.get('a', FG);
    setLoad(async () => {
      throw new UpstreamUnavailableError('usage', 503, false, 'status 503');
    });
    clock.advance(3_000);
    expect(await cache.get('a', FG)).toMatchObject({ stale: true });
    clock.advance(3_000);
    await expect(cache.get('a', FG)).rejects.toBeInstanceOf(UpstreamUnavailableError);
  });

  it('remembers definitive refusals for the negative TTL', async () => {
    const { clock, calls, cache, setLoad } = setup({ negativeTtlMs: 60_000 });
    setLoad(async (key) => {
      throw key === 'gone'
        ? new UpstreamNotFoundError('sim', 404)
        : new UpstreamBusinessError('topups', 422, 73, 'recycled');
    });
    await expect(cache.get('gone', FG)).rejects.toBeInstanceOf(UpstreamNotFoundError);
    await expect(cache.get('gone', FG)).rejects.toBeInstanceOf(UpstreamNotFoundError);
    await expect(cache.get('recycled', FG)).rejects.toBeInstanceOf(UpstreamBusinessError);
    await expect(cache.get('recycled', FG)).rejects.toBeInstanceOf(UpstreamBusinessError);
    expect(calls).toEqual(['gone', 'recycled']);
    clock.advance(60_001);
    await expect(cache.get('gone', FG)).rejects.toBeInstanceOf(UpstreamNotFoundError);
    expect(calls).toHaveLength(3);
  });

  it('aborts the upstream call only when every waiting caller has gone', async () => {
    const { cache, setLoad } = setup();
    let upstreamSignal!: AbortSignal;
    setLoad((_key, signal) => {
      upstreamSignal = signal;
      return new Promise(() => {});
    });
    const a = new AbortController();
    const b = new AbortController();
    const first = cache.get('a', FG, a.signal);
    const second = cache.get('a', FG, b.signal);
    a.abort(new Error('client a left'));
    await expect(first).rejects.toThrow('client a left');
    expect(upstreamSignal.aborted).toBe(false);
    b.abort(new Error('client b left'));
    await expect(second).rejects.toThrow('client b left');
    expect(upstreamSignal.aborted).toBe(true);
  });

  it('patches a cached value in place without refreshing its age', async () => {
    const { clock, cache } = setup();
    await cache.get('a', FG);
    clock.advance(500);
    expect(cache.update('a', (v) => v + 100)).toBe(true);
    expect(cache.peek('a')).toMatchObject({ value: 101, fetchedAt: clock.now() - 500 });
    expect(cache.update('missing', (v) => v)).toBe(false);
  });

  it("takes a call from the request's allowance only when it starts one; past it, stale or CallAllowanceExceededError", async () => {
    const { clock, calls, cache, setLoad } = setup();
    const allowance = new CallAllowance(2);
    let release!: (v: number) => void;
    setLoad(() => new Promise((r) => (release = r)));
    const joined = [cache.get('a', FG, undefined, allowance), cache.get('a', FG, undefined, allowance)]; // one call, joined
    release(1);
    await Promise.all(joined);
    await cache.get('a', FG, undefined, allowance); // fresh hit: free
    expect(allowance.used).toBe(1);
    setLoad(async () => calls.length);
    await cache.get('b', FG, undefined, allowance);
    expect(allowance.used).toBe(2);
    await expect(cache.get('c', FG, undefined, allowance)).rejects.toEqual(new CallAllowanceExceededError('test', 2));
    clock.advance(1_000); // 'a' expired but within its stale bound: served stale rather than refused
    expect(await cache.get('a', FG, undefined, allowance)).toMatchObject({ value: 1, stale: true });
    expect(calls).toEqual(['a', 'b']);
    await expect(cache.get('c', FG)).resolves.toMatchObject({ stale: false }); // another request's reads are not affected
  });
});
