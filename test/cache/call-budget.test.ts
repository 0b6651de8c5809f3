import { describe, expect, it } from 'vitest';
import { CallBudget } from '../../src/domain/cache/index.ts';
import { createManualClock } from '../../src/platform/clock.ts';

describe('CallBudget', () => {
  it('allows `limit` calls per sliding window per key and says how long to wait after', () => {
    const clock = createManualClock();
    const budget = new CallBudget({ limit: 3, windowMs: 60_000, clock });
    for (let i = 0; i < 3; i++) {
      expect(budget.waitMs('a')).toBe(0);
      budget.consume('a');
      clock.advance(10_000);
    }
    expect(budget.waitMs('a')).toBe(30_000);
    expect(budget.waitMs('b')).toBe(0);
    clock.advance(30_000);
    expect(budget.waitMs('a')).toBe(0);
  });

  it('holds a Retry-After block for its full length, however long', () => {
    const clock = createManualClock();
    const budget = new CallBudget({ limit: 100, windowMs: 60_000, clock });
    budget.blockUntil('a', clock.now() + 900_000);
    clock.advance(899_999);
    expect(budget.waitMs('a')).toBe(1);
    clock.advance(1);
    expect(budget.waitMs('a')).toBe(0);
  });

  it('never lets a one-per-15-minutes key through twice within the interval', () => {
    const clock = createManualClock();
    const budget = new CallBudget({ limit: 1, windowMs: 900_000, clock });
    let calls = 0;
    for (let second = 0; second < 1800; second += 7) {
      if (budget.waitMs('a') === 0) {
        budget.consume('a');
        calls++;
      }
      clock.advance(7_000);
    }
    expect(calls).toBe(2);
  });

  it('keeps every key for its whole window however many keys are tracked, and drops keys whose window has passed', () => {
    const clock = createManualClock();
    const budget = new CallBudget({ limit: 1, windowMs: 900_000, clock });
    for (let i = 0; i < 50_000; i++) budget.consume(`k${i}`);
    clock.advance(899_999);
    // No bound evicts a budget still in force: the first key is as blocked as the last.
    expect(budget.waitMs('k0')).toBe(1);
    expect(budget.waitMs('k49999')).toBe(1);
    clock.advance(1);
    // Memory follows the calls made within one window (at most twice that between sweeps): new keys sweep the old away.
    for (let i = 0; i < 20_000; i++) budget.consume(`n${i}`);
    expect(budget.trackedKeys).toBeLessThanOrEqual(2 * 20_000);
    expect(budget.waitMs('k0')).toBe(0);
  });
});
