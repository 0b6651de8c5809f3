/** The money path through the whole stack, with orders counted at the sandbox. */
import { afterEach, describe, expect, it } from 'vitest';
import { graphql } from '../__generated__/gql.ts';
import { startHarness, type Harness } from '../support/harness.ts';

const PurchaseTopup = graphql(`
  mutation PurchaseTopup($input: PurchaseTopupInput!) {
    purchaseTopup(input: $input) {
      __typename
      ... on PurchaseTopupSuccess {
        replayed
        order { id code packageId title price { amount currency } createdAt description }
        sim { iccid }
      }
      ... on Error { code message }
      ... on RateLimitedError { retryAfterSeconds }
      ... on UpstreamUnavailableError { retryAfterSeconds }
      ... on IdempotencyInProgressError { retryAfterSeconds }
    }
  }
`);

const AfterPurchase = graphql(`
  query AfterPurchase($iccid: ID!) {
    balance { available { amount } }
    sim(iccid: $iccid) {
      topupPackages { id price { amount } }
      packageHistory { id package { id type } }
    }
  }
`);

let h: Harness;
afterEach(async () => h?.close());

async function activeSimWithPackage(harness: Harness, match: (id: string) => boolean = (id) => !/insufficient|maintenance|disabled|out-of-stock/.test(id)) {
  for (const iccid of harness.sandbox.control.iccids({ status: 'ACTIVE', hasTopups: true })) {
    const packageId = harness.sandbox.control.topupPackageIds(iccid).find(match);
    if (packageId) return { iccid, packageId };
  }
  throw new Error('the seeded sandbox has no such SIM');
}

const buy = (harness: Harness, input: { iccid: string; packageId: string; idempotencyKey: string; description?: string }) =>
  harness.gql(PurchaseTopup, { input });

describe('purchaseTopup', () => {
  it('orders once, returns the order, and later reads show the purchase (balance, history) without re-reading history', async () => {
    h = await startHarness();
    const { iccid, packageId } = await activeSimWithPackage(h);
    const before = await h.gql(AfterPurchase, { iccid });
    const price = before.data!.sim!.topupPackages!.find((p) => p.id === packageId)!.price.amount;

    const result = await buy(h, { iccid, packageId, idempotencyKey: 'key-1', description: 'customer 42' });
    expect(result.errors).toBeUndefined();
    const success = result.data!.purchaseTopup;
    expect(success.__typename).toBe('PurchaseTopupSuccess');
    if (success.__typename !== 'PurchaseTopupSuccess') return;
    expect(success).toMatchObject({ replayed: false, sim: { iccid }, order: { packageId, description: 'customer 42' } });
    expect(success.order.price).toEqual({ amount: price, currency: 'USD' });
    expect(h.sandbox.control.orders()).toHaveLength(1);
    expect(h.sandbox.control.orders()[0]!.description).toContain('customer 42');

    const after = await h.gql(AfterPurchase, { iccid });
    expect(Number(after.data!.balance.available.amount)).toBeCloseTo(Number(before.data!.balance.available.amount) - Number(price), 2);
    expect(after.data!.sim!.packageHistory!.map((e) => e.package.id)).toContain(packageId);
    expect(after.data!.sim!.packageHistory!.length).toBe(before.data!.sim!.packageHistory!.length + 1);
    expect(h.sandbox.control.countCalls({ endpoint: 'packages', iccid })).toBe(1);
    expect(h.sandbox.control.countCalls({ endpoint: 'topups', iccid })).toBe(2);
    expect(h.sandbox.control.countCalls({ endpoint: 'balance' })).toBe(2);
  });

  it('replays the first result for the same key and input without an upstream call', async () => {
    h = await startHarness({ flavour: 'airalo' });
    const { iccid, packageId } = await activeSimWithPackage(h);
    const first = await buy(h, { iccid, packageId, idempotencyKey: 'replay-me' });
    const second = await buy(h, { iccid, packageId, idempotencyKey: 'replay-me' });
    expect(second.data!.purchaseTopup).toEqual({ ...first.data!.purchaseTopup, replayed: true });
    expect(h.sandbox.control.countCalls({ endpoint: 'submitTopup' })).toBe(1);
    expect(h.sandbox.control.orders()).toHaveLength(1);
  });

  it('refuses the same key with another input: IDEMPOTENCY_KEY_REUSED and zero upstream calls', async () => {
    h = await startHarness();
    const { iccid, packageId } = await activeSimWithPackage(h);
    await buy(h, { iccid, packageId, idempotencyKey: 'shared' });
    h.sandbox.control.resetCalls();
    const reused = await buy(h, { iccid, packageId, idempotencyKey: 'shared', description: 'something else' });
    expect(reused.data!.purchaseTopup).toMatchObject({ __typename: 'IdempotencyKeyReusedError', code: 'IDEMPOTENCY_KEY_REUSED' });
    expect(h.sandbox.control.countCalls()).toBe(0);
  });

  it('places exactly one upstream order for 20 concurrent calls with one key', async () => {
    h = await startHarness({ sandbox: { faults: [{ endpoint: 'submitTopup', latencyMs: 30 }] } });
    const { iccid, packageId } = await activeSimWithPackage(h);
    const results = await Promise.all(Array.from({ length: 20 }, () => buy(h, { iccid, packageId, idempotencyKey: 'burst' })));
    const orderIds = new Set(results.map((r) => (r.data!.purchaseTopup as any).order?.id));
    expect(orderIds.size).toBe(1);
    expect([...orderIds][0]).toBeDefined();
    expect(h.sandbox.control.countCalls({ endpoint: 'submitTopup' })).toBe(1);
    expect(h.sandbox.control.orders()).toHaveLength(1);
  });

  it.each([
    ['insufficient-balance', 'InsufficientFundsError', 'INSUFFICIENT_FUNDS'],
    ['maintenance-mode', 'OperatorMaintenanceError', 'OPERATOR_MAINTENANCE'],
    ['disabled-top-up', 'TopupDisabledError', 'TOPUP_DISABLED'],
    ['out-of-stock', 'PackageNotAvailableError', 'PACKAGE_NOT_AVAILABLE'],
  ])('maps the sandbox trigger %s to %s', async (trigger, typename, code) => {
    h = await startHarness();
    const { iccid, packageId } = await activeSimWithPackage(h, (id) => id.includes(trigger));
    const result = await buy(h, { iccid, packageId, idempotencyKey: `k-${trigger}` });
    expect(result.data!.purchaseTopup).toMatchObject({ __typename: typename, code });
    expect(h.sandbox.control.orders()).toHaveLength(0);
  });

  it('reports INSUFFICIENT_FUNDS when the balance is too low, and lets the same key succeed once funded', async () => {
    h = await startHarness();
    const { iccid, packageId } = await activeSimWithPackage(h);
    h.sandbox.control.setBalance(0);
    const refused = await buy(h, { iccid, packageId, idempotencyKey: 'fund-later' });
    expect(refused.data!.purchaseTopup).toMatchObject({ __typename: 'InsufficientFundsError' });
    h.sandbox.control.setBalance(1000);
    const ok = await buy(h, { iccid, packageId, idempotencyKey: 'fund-later' });
    expect(ok.data!.purchaseTopup.__typename).toBe('PurchaseTopupSuccess');
  });

  it('reports PACKAGE_NOT_AVAILABLE, SIM_NOT_FOUND and SIM_RECYCLED', async () => {
    h = await startHarness();
    const { iccid } = await activeSimWithPackage(h);
    const wrongPackage = await buy(h, { iccid, packageId: 'no-such-package', idempotencyKey: 'a' });
    expect(wrongPackage.data!.purchaseTopup).toMatchObject({ __typename: 'PackageNotAvailableError', code: 'PACKAGE_NOT_AVAILABLE' });
    const unknown = await buy(h, { iccid: '8999999999999999999', packageId: 'x-topup', idempotencyKey: 'b' });
    expect(unknown.data!.purchaseTopup).toMatchObject({ __typename: 'SimNotFoundError', code: 'SIM_NOT_FOUND' });
    const recycled = h.sandbox.control.iccids({ status: 'RECYCLED' })[0]!;
    const refused = await buy(h, { iccid: recycled, packageId: 'any-topup', idempotencyKey: 'c' });
    expect(refused.data!.purchaseTopup).toMatchObject({ __typename: 'SimRecycledError', code: 'SIM_RECYCLED' });
    expect(h.sandbox.control.orders()).toHaveLength(0);
  });

  it('rejects malformed input with BAD_USER_INPUT before any upstream call', async () => {
    h = await startHarness();
    const bad = await buy(h, { iccid: 'abc', packageId: 'p', idempotencyKey: 'k' });
    expect(bad.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
    const longDescription = await buy(h, { iccid: '8944500000000000001', packageId: 'p', idempotencyKey: 'k', description: 'x'.repeat(201) });
    expect(longDescription.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
    expect(h.sandbox.control.countCalls()).toBe(0);
  });

  it('reports RATE_LIMITED with retryAfterSeconds, and the same key may be retried after', async () => {
    h = await startHarness();
    const { iccid, packageId } = await activeSimWithPackage(h);
    h.sandbox.control.addFault({ endpoint: 'submitTopup', rateLimit: { retryAfterSeconds: 30 }, times: 1 });
    const limited = await buy(h, { iccid, packageId, idempotencyKey: 'rl' });
    expect(limited.data!.purchaseTopup).toMatchObject({ __typename: 'RateLimitedError', code: 'RATE_LIMITED', retryAfterSeconds: 30 });
    const retried = await buy(h, { iccid, packageId, idempotencyKey: 'rl' });
    expect(retried.data!.purchaseTopup.__typename).toBe('PurchaseTopupSuccess');
    expect(h.sandbox.control.orders()).toHaveLength(1);
  });

  it('never re-POSTs after a 502: outcome unknown → IDEMPOTENCY_IN_PROGRESS within the grace period → a fresh submit after it', async () => {
    h = await startHarness();
    const { iccid, packageId } = await activeSimWithPackage(h);
    h.sandbox.control.addFault({ endpoint: 'submitTopup', errorStatus: 502, times: 1 });
    const first = await buy(h, { iccid, packageId, idempotencyKey: 'ambiguous' });
    expect(first.data!.purchaseTopup).toMatchObject({ __typename: 'UpstreamUnavailableError', code: 'UPSTREAM_UNAVAILABLE' });
    expect(h.sandbox.control.countCalls({ endpoint: 'submitTopup' })).toBe(1);

    const soon = await buy(h, { iccid, packageId, idempotencyKey: 'ambiguous' });
    expect(soon.data!.purchaseTopup).toMatchObject({ __typename: 'IdempotencyInProgressError', code: 'IDEMPOTENCY_IN_PROGRESS' });
    expect(h.sandbox.control.countCalls({ endpoint: 'submitTopup' })).toBe(1);

    h.clock.advance(121_000);
    const later = await buy(h, { iccid, packageId, idempotencyKey: 'ambiguous' });
    expect(later.data!.purchaseTopup.__typename).toBe('PurchaseTopupSuccess');
    expect(h.sandbox.control.countCalls({ endpoint: 'submitTopup' })).toBe(2);
    expect(h.sandbox.control.orders()).toHaveLength(1);
  });

  it('finds the order when the connection is reset after the upstream processed it, without a second POST', async () => {
    h = await startHarness();
    const { iccid, packageId } = await activeSimWithPackage(h);
    h.sandbox.control.addFault({ endpoint: 'submitTopup', reset: 'mid-body', times: 1 });
    const result = await buy(h, { iccid, packageId, idempotencyKey: 'reset' });
    expect(result.data!.purchaseTopup).toMatchObject({ __typename: 'PurchaseTopupSuccess', order: { packageId } });
    expect(h.sandbox.control.countCalls({ endpoint: 'submitTopup' })).toBe(1);
    expect(h.sandbox.control.orders()).toHaveLength(1);
    const replay = await buy(h, { iccid, packageId, idempotencyKey: 'reset' });
    expect(replay.data!.purchaseTopup).toMatchObject({ __typename: 'PurchaseTopupSuccess', replayed: true });
    expect(h.sandbox.control.countCalls({ endpoint: 'submitTopup' })).toBe(1);
  });
});
