/** The in-process budget store (the embedded default), one budget bound to a scope and limit, on the injected clock. */
import { describe, expect, it } from 'vitest';
import { type Clock, createManualClock } from '../../src/platform/clock.ts';
import { MemoryBudgetStore } from '../../src/stores/budgets/memory.ts';

/** One (scope, limit, window) of the store, as the scheduler uses it for an endpoint's per-ICCID limit. */
function bound(scope: string, limit: number, windowMs: number, clock: Clock, store: MemoryBudgetStore) {
  return {
    acquire: (key: string) => store.acquire(scope, key, limit, windowMs, clock.now()),
    blockUntil: (key: string, until: number) => store.block(scope, key, until, clock.now()),
  };
}

function budget(limit: number, windowMs: number, store = new MemoryBudgetStore()) {
  const clock = createManualClock();
  return { clock, store, budget: bound('usage', limit, windowMs, clock, store) };
}

describe('a budget on the in-process store', () => {
  it('allows `limit` calls per sliding window per key and says how long to wait after', async () => {
    const { clock, budget: b } = budget(3, 60_000);
    for (let i = 0; i < 3; i++) {
      expect(await b.acquire('a')).toBe(0);
      clock.advance(10_000);
    }
    expect(await b.acquire('a')).toBe(30_000);
    expect(await b.acquire('b')).toBe(0);
    clock.advance(30_000);
    expect(await b.acquire('a')).toBe(0);
  });

  it('records nothing when it denies', async () => {
    const { clock, budget: b } = budget(1, 60_000);
    expect(await b.acquire('a')).toBe(0);
    for (let i = 0; i < 5; i++) expect(await b.acquire('a')).toBeGreaterThan(0);
    clock.advance(60_000);
    expect(await b.acquire('a')).toBe(0);
  });

  it('holds a Retry-After block for its full length, however long; a shorter block never shortens it', async () => {
    const { clock, budget: b } = budget(100, 60_000);
    await b.blockUntil('a', clock.now() + 900_000);
    await b.blockUntil('a', clock.now() + 1_000);
    clock.advance(899_999);
    expect(await b.acquire('a')).toBe(1);
    clock.advance(1);
    expect(await b.acquire('a')).toBe(0);
  });

  it('applies blocks to an unlimited budget and nothing else', async () => {
    const { clock, budget: b } = budget(Number.POSITIVE_INFINITY, 1);
    for (let i = 0; i < 1_000; i++) expect(await b.acquire('a')).toBe(0);
    await b.blockUntil('a', clock.now() + 5_000);
    expect(await b.acquire('a')).toBe(5_000);
  });

  it('keeps scopes apart: one ICCID has a budget per resource', async () => {
    const { clock, store, budget: usage } = budget(1, 60_000);
    const history = bound('history', 1, 900_000, clock, store);
    expect(await usage.acquire('a')).toBe(0);
    expect(await history.acquire('a')).toBe(0);
    expect(await usage.acquire('a')).toBe(60_000);
    expect(await history.acquire('a')).toBe(900_000);
  });

  it('never lets a one-per-15-minutes key through twice within the interval', async () => {
    const { clock, budget: b } = budget(1, 900_000);
    let calls = 0;
    for (let second = 0; second < 1800; second += 7) {
      if ((await b.acquire('a')) === 0) calls++;
      clock.advance(7_000);
    }
    expect(calls).toBe(2);
  });

  it('keeps every key for its whole window however many keys are tracked, and drops keys whose window has passed', async () => {
    const { clock, store, budget: b } = budget(1, 900_000);
    for (let i = 0; i < 50_000; i++) await b.acquire(`k${i}`);
    clock.advance(899_999);
    // No bound evicts a budget still in force: the first key is as blocked as the last.
    expect(await b.acquire('k0')).toBe(1);
    expect(await b.acquire('k49999')).toBe(1);
    clock.advance(1);
    // Memory follows the calls made within one window (at most twice that between sweeps): new keys sweep the old away.
    for (let i = 0; i < 20_000; i++) await b.acquire(`n${i}`);
    expect(store.trackedKeys).toBeLessThanOrEqual(2 * 20_000);
    expect(await b.acquire('k0')).toBe(0);
  });

  it('grants nothing under a limit below one call (a fallback share of a tiny limit)', async () => {
    const store = new MemoryBudgetStore();
    expect(await store.acquire('history', 'a', 0, 900_000, 0)).toBe(900_000);
  });
});

describe('several budgets in one decision on the in-process store (acquireAll)', () => {
  const budgets = (iccid: string) => [
    { scope: 'usage#i0', key: iccid, limit: 2, windowMs: 60_000 },
    { scope: 'usage#p0', key: '', limit: 3, windowMs: 1_000 },
    { scope: 'usage', key: '*', limit: Number.POSITIVE_INFINITY, windowMs: 1 },
  ];

  it('records in every budget or in none, and answers each budget’s wait and calls when it refuses', () => {
    const store = new MemoryBudgetStore();
    expect(store.acquireAll(budgets('a'), 0)).toBe(0);
    expect(store.acquireAll(budgets('a'), 100)).toBe(0);
    expect(store.acquireAll(budgets('a'), 200)).toEqual({ waits: [59_800, 0, 0], calls: [[0, 100], [0, 100], []] });
    expect(store.acquireAll(budgets('b'), 200)).toBe(0);
    // The partner budget is spent: refused, and b's own budget keeps its second slot.
    expect(store.acquireAll(budgets('b'), 300)).toMatchObject({ waits: [0, 700, 0] });
    expect(store.acquireAll(budgets('b'), 1_000)).toBe(0);
    expect(store.inspect(budgets('b'), 1_000)).toEqual({
      waits: [59_200, 100, 0],
      calls: [[200, 1_000], [100, 200, 1_000], []],
    });
    store.block('usage', '*', 5_000, 1_000);
    expect(store.acquireAll(budgets('c'), 1_000)).toMatchObject({ waits: [0, 100, 4_000] });
  });

  it('frees a lowered limit only when all but limit − 1 calls have left the window', () => {
    const store = new MemoryBudgetStore();
    for (let t = 0; t < 4; t++) expect(store.acquire('s', '', 4, 1_000, t * 100)).toBe(0);
    // Half the limit (a background call's share): 4 calls recorded, room again once 3 have left (at 1 200).
    expect(store.acquire('s', '', 2, 1_000, 400)).toBe(800);
  });
});
