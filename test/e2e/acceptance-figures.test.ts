/**
 * Acceptance figures of the hardening issue, end to end: the whole gateway (Yoga → resolvers → loaders → caches →
 * purchase service → upstream client) against the in-process sandbox, every count read from the sandbox's own
 * call log and order book (`sandbox.control`), on the injected clock.
 *
 *   1. 50 concurrent same-key purchaseTopup → 1 upstream order; same key + other input → IDEMPOTENCY_KEY_REUSED, 0 calls
 *   2. submit hangs / resets / answers 502 → 0 re-POSTs; a retry with the same key returns the reconciled order
 *      (the sandbox's `afterProcessing` faults place the order, then lose or replace the answer; retries reaching a
 *      restarted gateway, or one that evicted the key: test/graphql/purchase-topup.test.ts)
 *   3. 200 packageHistory queries over 10 minutes → 1 upstream history call
 *   4. 429 Retry-After: 900 (delta-seconds and HTTP-date) → 0 upstream calls for 900 s, then exactly 1
 *   5. 1,000 concurrent usage reads of one cold ICCID → 1 upstream usage call (+ 1 details call)
 *   6. 100 concurrent requests after the upstream token expired → 1 token call
 *
 * The test names state the figures so the README can cite them. Queries are plain strings (not `graphql()`), so
 * codegen does not pick them up.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SANDBOX_PRINCIPAL } from '../../src/domain/auth.ts';
import { orderReference } from '../../src/domain/purchase/index.ts';
import { createManualClock } from '../../src/platform/clock.ts';
import type { FaultRule } from '../../src/sandbox/types.ts';
import { type GqlResult, type Harness, startHarness } from '../support/harness.ts';
import { until } from '../support/until.ts';

/** Short upstream timeouts (undici rounds sub-second headers/body timeouts up to its ~1 s timer tick). */
const SHORT_TIMEOUTS = {
  UPSTREAM_HEADERS_TIMEOUT_MS: '300',
  UPSTREAM_BODY_TIMEOUT_MS: '300',
  UPSTREAM_CONNECT_TIMEOUT_MS: '300',
};
const GRACE_SECONDS = 60;

const PURCHASE = `
  mutation AcceptancePurchase($input: PurchaseTopupInput!) {
    purchaseTopup(input: $input) {
      __typename
      ... on PurchaseTopupSuccess { replayed order { id code packageId description } }
      ... on Error { code message }
      ... on RateLimitedError { retryAfterSeconds }
      ... on UpstreamUnavailableError { retryAfterSeconds }
      ... on IdempotencyInProgressError { retryAfterSeconds }
    }
  }
`;
const HISTORY =
  'query AcceptanceHistory($iccid: ID!) { sim(iccid: $iccid) { iccid packageHistory { id status package { id type } } } }';
const USAGE =
  'query AcceptanceUsage($iccid: ID!) { sim(iccid: $iccid) { iccid usage { status remainingMb totalMb stale fetchedAt } } }';

interface PurchaseArgs {
  iccid: string;
  packageId: string;
  idempotencyKey: string;
  description?: string;
}

const buy = async (h: Harness, input: PurchaseArgs): Promise<any> => {
  const result = await h.gql(PURCHASE, { input });
  if (result.errors) throw new Error(`purchaseTopup answered GraphQL errors: ${JSON.stringify(result.errors)}`);
  return result.data.purchaseTopup;
};

/** An ACTIVE SIM and one of its ordinary (non-trigger) top-up packages. */
function simWithPackage(h: Harness): { iccid: string; packageId: string } {
  for (const iccid of h.sandbox.control.iccids({ status: 'ACTIVE', hasTopups: true })) {
    const packageId = h.sandbox.control.topupPackageIds(iccid).find((id) => !id.startsWith('sandbox-trigger-'));
    if (packageId) return { iccid, packageId };
  }
  throw new Error('the seeded sandbox has no ACTIVE SIM with an ordinary top-up package');
}

/** A first purchase on a SIM whose submit meets `fault` once; the gateway gives up within its timeout budget. */
async function firstPurchaseUnderFault(harness: Harness, fault: Partial<FaultRule>, key: string) {
  const { iccid, packageId } = simWithPackage(harness);
  harness.sandbox.control.addFault({ endpoint: 'submitTopup', iccid, ...fault, times: 1 });
  const started = performance.now();
  const first = await buy(harness, { iccid, packageId, idempotencyKey: key });
  expect(performance.now() - started).toBeLessThan(3_000); // a hang is given up on at the headers timeout
  return { iccid, packageId, first };
}

/** Reads `sim { usage }` for every ICCID at once; each must answer that SIM without an error. */
async function expectEveryAnswered(harness: Harness, iccids: string[]): Promise<void> {
  const results = await Promise.all(iccids.map((iccid) => harness.gql(USAGE, { iccid })));
  results.forEach((r, i) => {
    expect(r.errors, iccids[i]).toBeUndefined();
    expect(r.data.sim.iccid).toBe(iccids[i]);
  });
}

const submits = (h: Harness) =>
  h.sandbox.control.countCalls({ endpoint: 'submitTopup', method: 'POST', flavour: 'pressone' });
const errorsAt = (result: GqlResult<any>, path: string) =>
  (result.errors ?? []).filter((e) => e.path?.join('.') === path);

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('figure 1: 50 concurrent same-key purchaseTopup → 1 upstream order', () => {
  it('50 concurrent same-key purchases → 1 upstream order (1 submitTopup POST); same key, other input → IDEMPOTENCY_KEY_REUSED and 0 upstream calls', async () => {
    // A little upstream latency keeps the first submit in flight while the other 49 arrive.
    h = await startHarness({ sandbox: { faults: [{ endpoint: 'submitTopup', latencyMs: 50 }] } });
    const { iccid, packageId } = simWithPackage(h);
    const balanceBefore = h.sandbox.control.balance();

    const results = await Promise.all(
      Array.from({ length: 50 }, () => buy(h!, { iccid, packageId, idempotencyKey: 'fig1-burst' })),
    );

    expect(results.map((r) => r.__typename)).toEqual(Array(50).fill('PurchaseTopupSuccess'));
    const orders = h.sandbox.control.orders();
    expect(orders).toHaveLength(1);
    expect(new Set(results.map((r) => r.order.id))).toEqual(new Set([String(orders[0]!.id)]));
    expect(submits(h)).toBe(1);
    expect(h.sandbox.control.countCalls({ endpoint: 'submitTopup' })).toBe(1);
    expect(h.sandbox.control.balance()).toBeCloseTo(balanceBefore - orders[0]!.price, 2);

    // Same key, another input: refused before anything reaches the upstream.
    h.sandbox.control.resetCalls();
    const reused = await buy(h, { iccid, packageId, idempotencyKey: 'fig1-burst', description: 'another purchase' });
    expect(reused).toMatchObject({ __typename: 'IdempotencyKeyReusedError', code: 'IDEMPOTENCY_KEY_REUSED' });
    expect(h.sandbox.control.countCalls()).toBe(0);
    expect(h.sandbox.control.orders()).toHaveLength(1);
  });
});

describe.concurrent('figure 2: a submit that hangs, resets or answers 502 → 0 re-POSTs; a retry with the same key returns the reconciled order', () => {
  const env = { ...SHORT_TIMEOUTS, PURCHASE_RECONCILE_GRACE_SECONDS: String(GRACE_SECONDS) };

  // `afterProcessing` faults: the sandbox places (and charges) the order, then the connection hangs or a proxy answers
  // 502 instead of the order; a reset always comes after processing.
  it.for([
    ['hang', { hang: true, afterProcessing: true }, 0],
    ['502', { errorStatus: 502, afterProcessing: true }, 502],
    ['reset (after-headers)', { reset: 'after-headers' }, 0],
    ['reset (mid-body)', { reset: 'mid-body' }, 0],
  ] as const)(
    '%s after the upstream processed the order → 1 submit call (0 re-POSTs); the answer is that order, found by reconciling, and a retry with the same key replays it',
    async ([name, fault, status], { expect }) => {
      const harness = await startHarness({ env });
      try {
        const key = `fig2-processed-${name}`;
        const { iccid, packageId, first } = await firstPurchaseUnderFault(harness, fault, key);
        const orders = harness.sandbox.control.orders();
        expect(orders).toHaveLength(1);
        expect(orders[0]!.description).toContain(orderReference(SANDBOX_PRINCIPAL.id, key));
        expect(harness.sandbox.control.countCalls({ endpoint: 'submitTopup', status })).toBe(1); // the fault really happened
        // One search before the submit (nothing yet), one after the ambiguous answer (found).
        expect(harness.sandbox.control.countCalls({ endpoint: 'orders', iccid })).toBe(2);
        expect(first).toMatchObject({
          __typename: 'PurchaseTopupSuccess',
          replayed: false,
          order: { id: String(orders[0]!.id), packageId },
        });

        const retry = await buy(harness, { iccid, packageId, idempotencyKey: key });
        expect(retry).toMatchObject({
          __typename: 'PurchaseTopupSuccess',
          replayed: true,
          order: { id: String(orders[0]!.id) },
        });
        expect(submits(harness)).toBe(1);
        expect(harness.sandbox.control.orders()).toHaveLength(1);
      } finally {
        await harness.close();
      }
    },
  );

  it('hang after the upstream processed the order, with the order list unreadable meanwhile → UPSTREAM_UNAVAILABLE and 1 submit call; the retry with the same key returns that order', async ({
    expect,
  }) => {
    const harness = await startHarness({ env });
    try {
      const { iccid, packageId } = simWithPackage(harness);
      const key = 'fig2-processed-unconfirmed';
      harness.sandbox.control.addFault({ endpoint: 'submitTopup', iccid, hang: true, afterProcessing: true, times: 1 });
      const first = buy(harness, { iccid, packageId, idempotencyKey: key });
      // The order is placed and the answer hangs; the order list goes down before the gateway's headers timeout, so the
      // search that follows the timeout cannot find the order.
      await expect.poll(() => harness.sandbox.control.orders().length, { timeout: 5_000, interval: 5 }).toBe(1);
      const listDown = harness.sandbox.control.addFault({ endpoint: 'orders', iccid, errorStatus: 503 });
      expect(await first).toMatchObject({
        __typename: 'UpstreamUnavailableError',
        code: 'UPSTREAM_UNAVAILABLE',
        retryAfterSeconds: 5,
      });
      harness.sandbox.control.removeFault(listDown);
      const order = harness.sandbox.control.orders()[0]!;
      expect(order.description).toContain(orderReference(SANDBOX_PRINCIPAL.id, key));

      const retry = await buy(harness, { iccid, packageId, idempotencyKey: key });
      expect(retry).toMatchObject({
        __typename: 'PurchaseTopupSuccess',
        replayed: true,
        order: { id: String(order.id), packageId },
      });
      const replay = await buy(harness, { iccid, packageId, idempotencyKey: key });
      expect(replay).toEqual(retry);
      expect(submits(harness)).toBe(1);
      expect(harness.sandbox.control.orders()).toHaveLength(1);
    } finally {
      await harness.close();
    }
  });

  it.for([
    ['hang', { hang: true }],
    ['502', { errorStatus: 502 }],
  ] as const)(
    '%s with no order created upstream → 1 submit call; retries say IDEMPOTENCY_IN_PROGRESS during the grace period, then exactly 1 new submit and 1 order',
    async ([name, fault], { expect }) => {
      const harness = await startHarness({ env });
      try {
        const key = `fig2-lost-${name}`;
        const { iccid, packageId, first } = await firstPurchaseUnderFault(harness, fault, key);
        expect(first).toMatchObject({
          __typename: 'UpstreamUnavailableError',
          code: 'UPSTREAM_UNAVAILABLE',
          retryAfterSeconds: 5,
        });
        expect(submits(harness)).toBe(1);

        // Within the grace period: each retry searches the order list, finds nothing, and does not POST.
        for (const advanceMs of [0, 30_000, (GRACE_SECONDS - 31) * 1000]) {
          harness.clock.advance(advanceMs);
          const retry = await buy(harness, { iccid, packageId, idempotencyKey: key });
          expect(retry).toMatchObject({
            __typename: 'IdempotencyInProgressError',
            code: 'IDEMPOTENCY_IN_PROGRESS',
            retryAfterSeconds: 5,
          });
        }
        expect(submits(harness)).toBe(1);
        // One search before the submit, one after its ambiguous answer, one per retry.
        expect(harness.sandbox.control.countCalls({ endpoint: 'orders', iccid })).toBe(5);
        expect(harness.sandbox.control.orders()).toHaveLength(0);

        // Past the grace period the order provably never landed: one new submit, one order.
        harness.clock.advance(2_000);
        const after = await buy(harness, { iccid, packageId, idempotencyKey: key });
        expect(after).toMatchObject({ __typename: 'PurchaseTopupSuccess', replayed: false, order: { packageId } });
        const replay = await buy(harness, { iccid, packageId, idempotencyKey: key });
        expect(replay).toMatchObject({
          __typename: 'PurchaseTopupSuccess',
          replayed: true,
          order: { id: after.order.id },
        });
        expect(submits(harness)).toBe(2);
        expect(harness.sandbox.control.orders()).toHaveLength(1);
        expect(String(harness.sandbox.control.orders()[0]!.id)).toBe(after.order.id);
      } finally {
        await harness.close();
      }
    },
  );
});

describe('figure 3: 200 packageHistory queries for one ICCID over 10 minutes → 1 upstream history call', () => {
  it('200 packageHistory queries, 3 s apart (10 minutes of clock) → exactly 1 upstream history call, every answer with the history', async () => {
    h = await startHarness();
    const iccid = h.sandbox.control.iccids({ status: 'ACTIVE', hasTopups: true })[0]!;
    let first: unknown;
    for (let i = 0; i < 200; i++) {
      const result = await h.gql(HISTORY, { iccid });
      expect(result.errors, `query ${i}`).toBeUndefined();
      const history = result.data.sim.packageHistory;
      expect(history.length, `query ${i}`).toBeGreaterThan(1); // initial package + the seeded top-up
      first ??= history;
      expect(history).toEqual(first);
      h.clock.advance(3_000);
    }
    expect(h.clock.now() - Date.parse('2026-01-01T00:00:00Z')).toBe(600_000);
    expect(h.sandbox.control.countCalls({ endpoint: 'packages', iccid })).toBe(1);
    expect(h.sandbox.control.countCalls({ endpoint: 'packages', status: 429 })).toBe(0);
    expect(h.sandbox.control.countCalls({ endpoint: 'sim', iccid })).toBe(1);
  });
});

describe('figure 4: a 429 with Retry-After: 900 on usage → 0 upstream calls for that (ICCID, usage) for 900 s, then exactly 1', () => {
  const cases = [
    ['delta-seconds', 'cold'],
    ['delta-seconds', 'warm'],
    ['HTTP-date', 'cold'],
    ['HTTP-date', 'warm'],
  ] as const;

  it.for(cases)(
    'Retry-After: 900 as %s, %s cache → 0 usage calls during 900 s (warm: the cached value marked stale; cold: RATE_LIMITED with retryAfterSeconds counting down; no 30 s cap), then exactly 1',
    async ([retryAfter, cache]) => {
      const asHttpDate = retryAfter === 'HTTP-date';
      const warm = cache === 'warm';
      h = await startHarness();
      const iccid = h.sandbox.control.iccids({ status: 'ACTIVE' })[0]!;
      const usageCalls = () => h!.sandbox.control.countCalls({ endpoint: 'usage', iccid });
      let warmUsage: any;
      if (warm) {
        const result = await h.gql(USAGE, { iccid });
        expect(result.errors).toBeUndefined();
        warmUsage = result.data.sim.usage;
        expect(warmUsage.stale).toBe(false);
        h.clock.advance(361_000); // past the usage TTL (300 s) and the stale-while-revalidate window (60 s)
      }
      const callsBefore = usageCalls();

      // The forced 429 (one only: any further call would reach the upstream and be answered normally).
      h.sandbox.control.addFault({
        endpoint: 'usage',
        iccid,
        rateLimit: { retryAfterSeconds: 900, asHttpDate },
        times: 1,
      });
      const limitedAt = h.clock.now();
      const limited = await h.gql(USAGE, { iccid });
      expect(h.sandbox.control.countCalls({ endpoint: 'usage', iccid, status: 429 })).toBe(1);
      expect(usageCalls()).toBe(callsBefore + 1);
      const expectDuring = (result: GqlResult<any>, elapsedSeconds: number) => {
        if (warm) {
          expect(result.errors).toBeUndefined();
          expect(result.data.sim.usage).toEqual({ ...warmUsage, stale: true });
        } else {
          expect(result.data.sim).toMatchObject({ iccid, usage: null });
          expect(errorsAt(result, 'sim.usage').map((e) => e.extensions)).toEqual([
            { code: 'RATE_LIMITED', retryAfterSeconds: 900 - elapsedSeconds },
          ]);
        }
      };
      expectDuring(limited, 0);

      // Clients keep asking every 30 s (at 30 s a client capping Retry-After at 30 s would already call again).
      for (let elapsed = 30; elapsed < 900; elapsed += 30) {
        h.clock.set(limitedAt + elapsed * 1000);
        expectDuring(await h.gql(USAGE, { iccid }), elapsed);
      }
      // 2 s before the end a read is still refused (more than a foreground read may wait for the block to end)…
      h.clock.set(limitedAt + 898_000);
      expectDuring(await h.gql(USAGE, { iccid }), 898);
      expect(usageCalls()).toBe(callsBefore + 1);
      // …1 s before it, a read waits for the end of the block (README "How the scheduler decides"), calling nothing.
      h.clock.set(limitedAt + 899_000);
      const waiting = h.gql(USAGE, { iccid });
      await until(() => h!.gateway.scheduler.waiting === 1);
      expect(usageCalls()).toBe(callsBefore + 1);

      // Expired: exactly one call, a fresh value, cached again.
      h.clock.set(limitedAt + 900_000);
      const recovered = await waiting;
      expect(recovered.errors).toBeUndefined();
      expect(recovered.data.sim.usage).toMatchObject({
        stale: false,
        fetchedAt: new Date(limitedAt + 900_000).toISOString(),
      });
      expect(usageCalls()).toBe(callsBefore + 2);
      await h.gql(USAGE, { iccid });
      expect(usageCalls()).toBe(callsBefore + 2);
      expect(h.sandbox.control.countCalls({ endpoint: 'usage', iccid, status: 429 })).toBe(1);
    },
  );
});

describe('figure 5: 1,000 concurrent usage reads for one cold ICCID → 1 upstream usage call', () => {
  it('1,000 concurrent GraphQL usage reads of one cold ICCID → exactly 1 upstream usage call and 1 details call', async () => {
    h = await startHarness();
    const iccid = h.sandbox.control.iccids({ status: 'ACTIVE' })[0]!;
    const results = await Promise.all(Array.from({ length: 1_000 }, () => h!.gql(USAGE, { iccid })));
    for (const result of results) {
      expect(result.status).toBe(200);
      expect(result.errors).toBeUndefined();
    }
    expect(new Set(results.map((r) => JSON.stringify(r.data)))).toHaveProperty('size', 1);
    expect(results[0]!.data.sim.usage).toMatchObject({ status: 'ACTIVE', stale: false });
    expect(h.sandbox.control.countCalls({ endpoint: 'usage', iccid })).toBe(1);
    expect(h.sandbox.control.countCalls({ endpoint: 'sim', iccid })).toBe(1);
    expect(h.sandbox.control.countCalls({ endpoint: 'token' })).toBe(1);
    expect(h.sandbox.control.countCalls()).toBe(3);
  });
});

describe('figure 6: 100 concurrent requests for cold ICCIDs after the upstream token expired → 1 token call', () => {
  const COLD = 100;

  it('100 concurrent requests (distinct cold ICCIDs) once the token is past its lifetime → exactly 1 token call, no 401', async () => {
    h = await startHarness({ sandbox: { simCount: COLD + 1, tokenLifetimeSeconds: 3_600 } });
    const [warmIccid, ...cold] = h.sandbox.control.iccids();
    expect(cold).toHaveLength(COLD);
    expect((await h.gql(USAGE, { iccid: warmIccid })).errors).toBeUndefined();
    expect(h.sandbox.control.countCalls({ endpoint: 'token' })).toBe(1);

    h.clock.advance(3_601_000); // the sandbox's token is now expired (and the gateway knows its lifetime)
    h.sandbox.control.resetCalls();
    await expectEveryAnswered(h, cold);
    expect(h.sandbox.control.countCalls({ endpoint: 'token' })).toBe(1);
    expect(h.sandbox.control.countCalls({ status: 401 })).toBe(0);
    expect(h.sandbox.control.countCalls({ endpoint: 'sim', status: 200 })).toBe(COLD);
    expect(h.sandbox.control.countCalls({ endpoint: 'usage', status: 200 })).toBe(COLD);
  });

  it('100 concurrent requests (distinct cold ICCIDs) once the upstream expired the token without the gateway knowing → 401s, then exactly 1 token call', async () => {
    // The sandbox runs on its own clock: moving it past the token's 366-day life expires the token upstream only.
    const upstreamClock = createManualClock();
    h = await startHarness({ sandbox: { simCount: COLD + 1, clock: upstreamClock } });
    const [warmIccid, ...cold] = h.sandbox.control.iccids();
    expect((await h.gql(USAGE, { iccid: warmIccid })).errors).toBeUndefined();
    expect(h.sandbox.control.countCalls({ endpoint: 'token' })).toBe(1);

    upstreamClock.advance(367 * 86_400_000);
    h.sandbox.control.resetCalls();
    await expectEveryAnswered(h, cold);
    expect(h.sandbox.control.countCalls({ endpoint: 'token' })).toBe(1);
    const unauthorized = h.sandbox.control.countCalls({ status: 401 });
    expect(unauthorized).toBeGreaterThanOrEqual(1); // the old token really was refused
    // Each request is refused at most once (then retried with the one new token); a cold `sim { usage }` sends its
    // details and usage requests together, so up to two per ICCID carry the old token.
    expect(unauthorized).toBeLessThanOrEqual(2 * COLD);
    expect(h.sandbox.control.countCalls({ endpoint: 'sim', status: 200 })).toBe(COLD);
    expect(h.sandbox.control.countCalls({ endpoint: 'usage', status: 200 })).toBe(COLD);
  });
});
