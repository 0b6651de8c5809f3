/**
 * The retry budget: a token bucket that bounds GET retries to ~20 % of first attempts (+ a small burst), on its own
 * and wired into the retry interceptor (MockAgent; requests counted at the mock).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { UpstreamClientOptions } from '../../src/upstream/index.ts';
import { RetryBudget } from '../../src/upstream/retry-budget.ts';
import { createHarness, type Harness } from './helpers.ts';

describe('RetryBudget', () => {
  it('starts full at max (default 10), earns ratio (default 0.2) per first attempt, spends 1 per retry', () => {
    const budget = new RetryBudget();
    expect(budget.tokens).toBe(10);
    for (let i = 0; i < 10; i++) expect(budget.tryWithdraw()).toBe(true);
    expect(budget.tryWithdraw()).toBe(false);
    for (let i = 0; i < 4; i++) budget.deposit();
    expect(budget.tryWithdraw()).toBe(false); // 0.8 tokens
    budget.deposit();
    expect(budget.tryWithdraw()).toBe(true); // five deposits of 0.2 make one retry, floating point notwithstanding
    expect(budget.tryWithdraw()).toBe(false);
  });

  it('never holds more than max', () => {
    const budget = new RetryBudget({ ratio: 1, max: 3 });
    for (let i = 0; i < 100; i++) budget.deposit();
    expect(budget.tokens).toBe(3);
  });

  it('bounds retries to ratio × first attempts + max under sustained failure, whatever the retry policy wants', () => {
    const budget = new RetryBudget({ ratio: 0.2, max: 10 });
    let firstAttempts = 0;
    let retries = 0;
    for (let call = 0; call < 10_000; call++) {
      budget.deposit();
      firstAttempts++;
      // Every attempt fails; the policy would retry twice.
      for (let attempt = 0; attempt < 2 && budget.tryWithdraw(); attempt++) retries++;
    }
    expect(retries).toBeLessThanOrEqual(0.2 * firstAttempts + 10);
    expect(retries).toBeGreaterThanOrEqual(0.2 * firstAttempts - 1);
  });

  it('rejects nonsense options', () => {
    expect(() => new RetryBudget({ ratio: -1 })).toThrow(RangeError);
    expect(() => new RetryBudget({ max: Number.NaN })).toThrow(RangeError);
  });
});

let harness: Harness | undefined;
let balanceRequests = 0;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

function setup(options: Partial<UpstreamClientOptions>): Harness {
  // The breaker would open on these sustained 503s; this file is about retries only.
  harness = createHarness('airalo', {
    circuitBreaker: { consecutiveFailures: 1_000, minimumCalls: 1_000 },
    ...options,
  });
  harness.serveTokens();
  balanceRequests = 0;
  harness.pool
    .intercept({ path: '/v2/balance', method: 'GET' })
    .reply(() => {
      balanceRequests++;
      return { statusCode: 503, data: '{"message":"Service Unavailable"}' };
    })
    .persist();
  return harness;
}

describe('GET retries draw from the client-wide budget', () => {
  it('retries only while the budget has tokens, and resumes as first attempts earn new ones', async () => {
    const h = setup({ retryBudget: { ratio: 0.5, max: 1 } });
    // Full bucket (1): the first call gets one retry, then the bucket is empty (its own deposit was capped).
    await expect(h.client.getBalance()).rejects.toMatchObject({ name: 'UpstreamUnavailableError', status: 503 });
    expect(balanceRequests).toBe(2);
    // 0.5 tokens: no retry.
    await expect(h.client.getBalance()).rejects.toMatchObject({ status: 503 });
    expect(balanceRequests).toBe(3);
    // 1 token again: one retry.
    await expect(h.client.getBalance()).rejects.toMatchObject({ status: 503 });
    expect(balanceRequests).toBe(5);
  });

  it('with an empty budget a GET is tried exactly once and fails with the upstream status', async () => {
    const h = setup({ retryBudget: { ratio: 0, max: 0 } });
    for (let i = 0; i < 3; i++) await expect(h.client.getBalance()).rejects.toMatchObject({ status: 503 });
    expect(balanceRequests).toBe(3);
  });

  it('keeps the extra load of 40 failing GETs at ≤ 20 % + the initial burst (default budget)', async () => {
    const h = setup({});
    await Promise.all(Array.from({ length: 40 }, () => h.client.getBalance().catch(() => undefined)));
    // Without the budget: 40 × 3 = 120 requests.
    expect(balanceRequests).toBeGreaterThan(40);
    expect(balanceRequests).toBeLessThanOrEqual(40 + 0.2 * 40 + 10);
  });
});
