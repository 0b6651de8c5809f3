/** The in-process budget store (the embedded default) through the domain's CallBudget, on the injected clock. */
import { describe, expect, it } from 'vitest';
import { CallBudget } from '../../src/domain/cache/index.ts';
import { createManualClock } from '../../src/platform/clock.ts';
import { MemoryBudgetStore } from '../../src/stores/budgets/memory.ts';

function budget(limit: number, windowMs: number, store = new MemoryBudgetStore()) {
  const clock = createManualClock();
  return { clock, store, budget: new CallBudget({ scope: 'usage', limit, windowMs, clock, store }) };
}

describe('CallBudget on the in-process store', () => {
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
    const history = new CallBudget({ scope: 'history', limit: 1, windowMs: 900_000, clock, store });
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
