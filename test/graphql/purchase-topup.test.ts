/** The money path through the whole stack, with orders counted at the sandbox. */
import { afterEach, describe, expect, it } from 'vitest';
import { createGateway } from '../../src/app/gateway.ts';
import { orderReference } from '../../src/domain/purchase/index.ts';
import { loadConfig } from '../../src/platform/config.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { graphql } from '../__generated__/gql.ts';
import { fetchToken } from '../sandbox/helpers.ts';
import { BASE_PATHS, type Harness, SANDBOX_CREDENTIALS, startHarness } from '../support/harness.ts';

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

async function activeSimWithPackage(
  harness: Harness,
  match: (id: string) => boolean = (id) => !id.startsWith('sandbox-trigger-'),
) {
  for (const iccid of harness.sandbox.control.iccids({ status: 'ACTIVE', hasTopups: true })) {
    const packageId = harness.sandbox.control.topupPackageIds(iccid).find(match);
    if (packageId) return { iccid, packageId };
  }
  throw new Error('the seeded sandbox has no such SIM');
}

const buy = (
  harness: Harness,
  input: { iccid: string; packageId: string; idempotencyKey: string; description?: string },
) => harness.gql(PurchaseTopup, { input });

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
    expect(success).toMatchObject({
      replayed: false,
      sim: { iccid },
      order: { packageId, description: 'customer 42' },
    });
    expect(success.order.price).toEqual({ amount: price, currency: 'USD' });
    expect(h.sandbox.control.orders()).toHaveLength(1);
    expect(h.sandbox.control.orders()[0]!.description).toContain('customer 42');

    const after = await h.gql(AfterPurchase, { iccid });
    expect(Number(after.data!.balance!.available.amount)).toBeCloseTo(
      Number(before.data!.balance!.available.amount) - Number(price),
      2,
    );
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
    expect(reused.data!.purchaseTopup).toMatchObject({
      __typename: 'IdempotencyKeyReusedError',
      code: 'IDEMPOTENCY_KEY_REUSED',
    });
    expect(h.sandbox.control.countCalls()).toBe(0);
  });

  it('places exactly one upstream order for 20 concurrent calls with one key', async () => {
    h = await startHarness({ sandbox: { faults: [{ endpoint: 'submitTopup', latencyMs: 30 }] } });
    const { iccid, packageId } = await activeSimWithPackage(h);
    const results = await Promise.all(
      Array.from({ length: 20 }, () => buy(h, { iccid, packageId, idempotencyKey: 'burst' })),
    );
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
    const { iccid, packageId } = await activeSimWithPackage(h, (id) => id === `sandbox-trigger-${trigger}`);
    // Named so that nobody mistakes it for a real package: its id and its title say it is a sandbox trigger.
    const listed = await h.gql(`{ sim(iccid: "${iccid}") { topupPackages { id title } } }`);
    expect(listed.data.sim.topupPackages).toContainEqual({
      id: packageId,
      title: expect.stringMatching(/^\[sandbox trigger\] /),
    });
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
    expect(wrongPackage.data!.purchaseTopup).toMatchObject({
      __typename: 'PackageNotAvailableError',
      code: 'PACKAGE_NOT_AVAILABLE',
    });
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
    const longDescription = await buy(h, {
      iccid: '8944500000000000001',
      packageId: 'p',
      idempotencyKey: 'k',
      description: 'x'.repeat(201),
    });
    expect(longDescription.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
    expect(h.sandbox.control.countCalls()).toBe(0);
  });

  it('reports RATE_LIMITED with retryAfterSeconds, and the same key may be retried after', async () => {
    h = await startHarness();
    const { iccid, packageId } = await activeSimWithPackage(h);
    h.sandbox.control.addFault({ endpoint: 'submitTopup', rateLimit: { retryAfterSeconds: 30 }, times: 1 });
    const limited = await buy(h, { iccid, packageId, idempotencyKey: 'rl' });
    expect(limited.data!.purchaseTopup).toMatchObject({
      __typename: 'RateLimitedError',
      code: 'RATE_LIMITED',
      retryAfterSeconds: 30,
    });
    // The 429 blocks the submit endpoint for its Retry-After (README "How the scheduler decides"): a retry before
    // then is refused by the gateway itself, nothing sent.
    const early = await buy(h, { iccid, packageId, idempotencyKey: 'rl' });
    expect(early.data!.purchaseTopup).toMatchObject({ __typename: 'RateLimitedError', retryAfterSeconds: 30 });
    expect(h.sandbox.control.countCalls({ endpoint: 'submitTopup' })).toBe(1);
    h.clock.advance(30_000);
    const retried = await buy(h, { iccid, packageId, idempotencyKey: 'rl' });
    expect(retried.data!.purchaseTopup.__typename).toBe('PurchaseTopupSuccess');
    expect(h.sandbox.control.orders()).toHaveLength(1);
  });

  it('never re-POSTs after a 502: outcome unknown → IDEMPOTENCY_IN_PROGRESS within the grace period → a fresh submit after it', async () => {
    h = await startHarness();
    const { iccid, packageId } = await activeSimWithPackage(h);
    h.sandbox.control.addFault({ endpoint: 'submitTopup', errorStatus: 502, times: 1 });
    const first = await buy(h, { iccid, packageId, idempotencyKey: 'ambiguous' });
    expect(first.data!.purchaseTopup).toMatchObject({
      __typename: 'UpstreamUnavailableError',
      code: 'UPSTREAM_UNAVAILABLE',
    });
    expect(h.sandbox.control.countCalls({ endpoint: 'submitTopup' })).toBe(1);

    const soon = await buy(h, { iccid, packageId, idempotencyKey: 'ambiguous' });
    expect(soon.data!.purchaseTopup).toMatchObject({
      __typename: 'IdempotencyInProgressError',
      code: 'IDEMPOTENCY_IN_PROGRESS',
    });
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

/** Short upstream timeouts, so a hung submit is given up on within about a second. */
const SHORT_TIMEOUTS = {
  UPSTREAM_HEADERS_TIMEOUT_MS: '300',
  UPSTREAM_BODY_TIMEOUT_MS: '300',
  UPSTREAM_CONNECT_TIMEOUT_MS: '300',
};
const ALPHA_KEY = 'alpha-api-key-0123456789abcdef';
const BETA_KEY = 'beta-api-key-0123456789abcdef0';
const TWO_PARTNERS = { AUTH_API_KEYS: `alpha:${ALPHA_KEY},beta:${BETA_KEY}` };

/**
 * Another gateway process against the harness's sandbox and clock, with empty memory: what a restart or a deploy (or a
 * second replica) looks like. Closed by the caller.
 */
function startGateway(harness: Harness, env: Record<string, string> = {}) {
  const gateway = createGateway({
    config: loadConfig({ LOG_LEVEL: 'silent', ...env }),
    clock: harness.clock,
    logger: createLogger('silent'),
    upstream: { url: `${harness.sandbox.url}${BASE_PATHS.pressone}`, flavour: 'pressone', ...SANDBOX_CREDENTIALS },
  });
  return {
    close: () => gateway.close(),
    async buy(
      input: { iccid: string; packageId: string; idempotencyKey: string; description?: string },
      headers: Record<string, string> = {},
    ): Promise<any> {
      const body = JSON.stringify({ query: PurchaseTopup.toString(), variables: { input } });
      const response = await gateway.yoga.fetch('http://gateway.test/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
        body,
      });
      const result = (await response.json()) as { data?: { purchaseTopup: unknown }; errors?: unknown };
      if (result.errors) throw new Error(`purchaseTopup answered GraphQL errors: ${JSON.stringify(result.errors)}`);
      return result.data!.purchaseTopup;
    },
  };
}

const submits = (harness: Harness) => harness.sandbox.control.countCalls({ endpoint: 'submitTopup' });
const searches = (harness: Harness) => harness.sandbox.control.countCalls({ endpoint: 'orders' });

describe('purchaseTopup: a key the gateway does not remember is searched for upstream before anything is submitted', () => {
  it('a first purchase costs exactly 1 order-list search (for that ICCID) and then exactly 1 submit', async () => {
    h = await startHarness();
    const { iccid, packageId } = await activeSimWithPackage(h);
    const result = await buy(h, { iccid, packageId, idempotencyKey: 'first', description: 'customer 7' });
    expect(result.data!.purchaseTopup).toMatchObject({
      __typename: 'PurchaseTopupSuccess',
      replayed: false,
      order: { description: 'customer 7' },
    });
    // (The `sim { iccid }` selection of the answer is a read of its own, not part of the purchase.)
    const calls = h.sandbox.control.calls().filter((c) => c.endpoint === 'orders' || c.endpoint === 'submitTopup');
    expect(
      calls.map(({ endpoint, method, iccid: callIccid, status }) => ({ endpoint, method, iccid: callIccid, status })),
    ).toEqual([
      { endpoint: 'orders', method: 'GET', iccid, status: 200 },
      { endpoint: 'submitTopup', method: 'POST', iccid, status: 200 },
    ]);
    expect(h.sandbox.control.orders()).toHaveLength(1);
    expect(h.sandbox.control.orders()[0]!.description).toBe(
      `customer 7 [${orderReference('partner:sandbox', 'first')}]`,
    );
  });

  it('restart: gateway A lost the answer to a submit whose order landed (UPSTREAM_UNAVAILABLE); a fresh gateway B retried with the same key returns that order — 1 submit, 1 order in total', async () => {
    h = await startHarness({ env: SHORT_TIMEOUTS });
    const { iccid, packageId } = await activeSimWithPackage(h);
    const input = { iccid, packageId, idempotencyKey: 'restart-me' };
    // The upstream places the order, then the connection hangs; while A waits for the answer its order list becomes
    // unreadable too, so A gives up without having found the order: outcome unknown.
    h.sandbox.control.addFault({ endpoint: 'submitTopup', iccid, hang: true, afterProcessing: true, times: 1 });
    const first = buy(h, input);
    await expect.poll(() => h.sandbox.control.orders().length, { timeout: 5_000, interval: 5 }).toBe(1);
    const listDown = h.sandbox.control.addFault({ endpoint: 'orders', errorStatus: 503 });
    expect((await first).data!.purchaseTopup).toMatchObject({
      __typename: 'UpstreamUnavailableError',
      code: 'UPSTREAM_UNAVAILABLE',
      retryAfterSeconds: 5,
    });
    h.sandbox.control.removeFault(listDown);
    const [order] = h.sandbox.control.orders();
    expect(submits(h)).toBe(1);

    await h.gateway.close(); // the process goes away, and its idempotency records with it
    const b = startGateway(h, SHORT_TIMEOUTS);
    try {
      h.sandbox.control.resetCalls();
      const retry = await b.buy(input);
      expect(retry).toMatchObject({
        __typename: 'PurchaseTopupSuccess',
        replayed: true,
        order: { id: String(order!.id), packageId },
      });
      expect(searches(h)).toBe(1);
      expect(submits(h)).toBe(0);
      const again = await b.buy(input);
      expect(again).toEqual(retry); // remembered by B now: no upstream call at all
      expect(h.sandbox.control.countCalls({ endpoint: 'orders' }) + submits(h)).toBe(1);
      expect(h.sandbox.control.orders()).toHaveLength(1);
    } finally {
      await b.close();
    }
  });

  it('restart: the same key for another package after the order was placed → IDEMPOTENCY_KEY_REUSED and 0 submits', async () => {
    h = await startHarness();
    const sim = h.sandbox.control
      .iccids({ status: 'ACTIVE', hasTopups: true })
      .map((iccid) => ({
        iccid,
        ids: h.sandbox.control.topupPackageIds(iccid).filter((id) => !id.startsWith('sandbox-trigger-')),
      }))
      .find((s) => s.ids.length >= 2)!;
    const [first, other] = sim.ids as [string, string];
    expect(
      (await buy(h, { iccid: sim.iccid, packageId: first, idempotencyKey: 'k' })).data!.purchaseTopup.__typename,
    ).toBe('PurchaseTopupSuccess');
    await h.gateway.close();
    const b = startGateway(h);
    try {
      h.sandbox.control.resetCalls();
      expect(await b.buy({ iccid: sim.iccid, packageId: other, idempotencyKey: 'k' })).toMatchObject({
        __typename: 'IdempotencyKeyReusedError',
        code: 'IDEMPOTENCY_KEY_REUSED',
      });
      expect(submits(h)).toBe(0);
      expect(await b.buy({ iccid: sim.iccid, packageId: first, idempotencyKey: 'k' })).toMatchObject({
        __typename: 'PurchaseTopupSuccess',
        replayed: true,
      });
      expect(submits(h)).toBe(0);
      expect(h.sandbox.control.orders()).toHaveLength(1);
    } finally {
      await b.close();
    }
  });

  it('restart: the reference is per principal — the same key from another principal is a new purchase, its own from the first one a replay', async () => {
    h = await startHarness({ env: TWO_PARTNERS });
    const { iccid, packageId } = await activeSimWithPackage(h);
    const input = { input: { iccid, packageId, idempotencyKey: 'shared-key' } };
    const alpha = await h.gql(PurchaseTopup, input, { 'x-api-key': ALPHA_KEY });
    expect(alpha.data!.purchaseTopup.__typename).toBe('PurchaseTopupSuccess');
    await h.gateway.close();
    const b = startGateway(h, TWO_PARTNERS);
    try {
      const beta = await b.buy(input.input, { 'x-api-key': BETA_KEY });
      expect(beta).toMatchObject({ __typename: 'PurchaseTopupSuccess', replayed: false });
      const alphaAgain = await b.buy(input.input, { 'x-api-key': ALPHA_KEY });
      expect(alphaAgain).toMatchObject({
        __typename: 'PurchaseTopupSuccess',
        replayed: true,
        order: { id: (alpha.data!.purchaseTopup as any).order.id },
      });
      expect(beta.order.id).not.toBe(alphaAgain.order.id);
      expect(submits(h)).toBe(2);
      expect(h.sandbox.control.orders().map((o) => o.description)).toEqual([
        `[${orderReference('partner:alpha', 'shared-key')}]`,
        `[${orderReference('partner:beta', 'shared-key')}]`,
      ]);
    } finally {
      await b.close();
    }
  });

  it('eviction (IDEMPOTENCY_MAX_KEYS=1): keys A, B, A → 2 orders; the second A replays A’s order with 0 submit calls', async () => {
    h = await startHarness({ env: { IDEMPOTENCY_MAX_KEYS: '1' } });
    const { iccid, packageId } = await activeSimWithPackage(h);
    const a = await buy(h, { iccid, packageId, idempotencyKey: 'A' });
    const b = await buy(h, { iccid, packageId, idempotencyKey: 'B' });
    expect(a.data!.purchaseTopup).toMatchObject({ __typename: 'PurchaseTopupSuccess', replayed: false });
    expect(b.data!.purchaseTopup).toMatchObject({ __typename: 'PurchaseTopupSuccess', replayed: false });
    h.sandbox.control.resetCalls();
    const againA = await buy(h, { iccid, packageId, idempotencyKey: 'A' });
    expect(againA.data!.purchaseTopup).toEqual({ ...a.data!.purchaseTopup, replayed: true });
    expect(submits(h)).toBe(0);
    expect(searches(h)).toBe(1);
    expect(h.sandbox.control.orders()).toHaveLength(2);
  });

  it('eviction under concurrency (IDEMPOTENCY_MAX_KEYS=1): 10 interleaved concurrent calls each for keys A and B → 1 search and 1 submit per key, 2 orders', async () => {
    h = await startHarness({
      env: { IDEMPOTENCY_MAX_KEYS: '1' },
      sandbox: { faults: [{ endpoint: 'submitTopup', latencyMs: 50 }] },
    });
    const { iccid, packageId } = await activeSimWithPackage(h);
    const keys = Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? 'A' : 'B'));
    const results = await Promise.all(keys.map((idempotencyKey) => buy(h, { iccid, packageId, idempotencyKey })));
    const orderIds = (key: string) =>
      new Set(results.filter((_, i) => keys[i] === key).map((r) => (r.data!.purchaseTopup as any).order?.id));
    expect(orderIds('A').size).toBe(1);
    expect(orderIds('B').size).toBe(1);
    expect(searches(h)).toBe(2);
    expect(submits(h)).toBe(2);
    expect(h.sandbox.control.orders()).toHaveLength(2);
  });

  it('eviction (IDEMPOTENCY_MAX_KEYS=1) does not drop an outcome-unknown key within the grace period: A (502), B, A → IDEMPOTENCY_IN_PROGRESS, no second submit for A until the grace period is over', async () => {
    h = await startHarness({ env: { IDEMPOTENCY_MAX_KEYS: '1', PURCHASE_RECONCILE_GRACE_SECONDS: '60' } });
    const { iccid, packageId } = await activeSimWithPackage(h);
    h.sandbox.control.addFault({ endpoint: 'submitTopup', errorStatus: 502, times: 1 });
    const a = await buy(h, { iccid, packageId, idempotencyKey: 'A' });
    expect(a.data!.purchaseTopup).toMatchObject({
      __typename: 'UpstreamUnavailableError',
      code: 'UPSTREAM_UNAVAILABLE',
    });
    expect((await buy(h, { iccid, packageId, idempotencyKey: 'B' })).data!.purchaseTopup.__typename).toBe(
      'PurchaseTopupSuccess',
    );
    expect(submits(h)).toBe(2);

    h.clock.advance(59_000);
    const soon = await buy(h, { iccid, packageId, idempotencyKey: 'A' });
    expect(soon.data!.purchaseTopup).toMatchObject({
      __typename: 'IdempotencyInProgressError',
      code: 'IDEMPOTENCY_IN_PROGRESS',
    });
    expect(submits(h)).toBe(2);

    h.clock.advance(1_000);
    const later = await buy(h, { iccid, packageId, idempotencyKey: 'A' });
    expect(later.data!.purchaseTopup).toMatchObject({ __typename: 'PurchaseTopupSuccess', replayed: false });
    expect(submits(h)).toBe(3);
    expect(h.sandbox.control.orders()).toHaveLength(2);
  });

  it.each([
    ['503', { errorStatus: 503 as const }, { __typename: 'UpstreamUnavailableError', code: 'UPSTREAM_UNAVAILABLE' }],
    [
      '429',
      { rateLimit: { retryAfterSeconds: 30 } },
      { __typename: 'RateLimitedError', code: 'RATE_LIMITED', retryAfterSeconds: 30 },
    ],
  ])(
    'the order list answers %s → a typed retryable error and 0 submits (never a blind submit); the same key succeeds once it is readable',
    async (_name, fault, expected) => {
      h = await startHarness();
      const { iccid, packageId } = await activeSimWithPackage(h);
      const listDown = h.sandbox.control.addFault({ endpoint: 'orders', ...fault });
      const refused = await buy(h, { iccid, packageId, idempotencyKey: 'list-down' });
      expect(refused.data!.purchaseTopup).toMatchObject(expected);
      expect((refused.data!.purchaseTopup as any).message).toMatch(/nothing was submitted/);
      expect(searches(h)).toBeGreaterThanOrEqual(1);
      expect(submits(h)).toBe(0);
      expect(h.sandbox.control.orders()).toHaveLength(0);

      h.sandbox.control.removeFault(listDown);
      // A 429 blocks the order list for its Retry-After: readable again once it has passed.
      if ('retryAfterSeconds' in expected) h.clock.advance(expected.retryAfterSeconds * 1000);
      const ok = await buy(h, { iccid, packageId, idempotencyKey: 'list-down' });
      expect(ok.data!.purchaseTopup).toMatchObject({ __typename: 'PurchaseTopupSuccess', replayed: false });
      expect(submits(h)).toBe(1);
      expect(h.sandbox.control.orders()).toHaveLength(1);
    },
  );
});

describe('purchaseTopup: once the POST may have reached the upstream, a failure is never "nothing was bought"', () => {
  it.each([
    ['a body that is not JSON', { malformedJson: true }],
    ['a JSON body missing the fields the model requires (id, code)', { incompleteBody: true }],
  ])(
    'a 2xx submit with %s is reconciled: the placed order is found and returned — 1 submit, 1 order, the key remembered',
    async (_name, fault) => {
      h = await startHarness();
      const { iccid, packageId } = await activeSimWithPackage(h);
      h.sandbox.control.addFault({ endpoint: 'submitTopup', times: 1, ...fault });
      const result = await buy(h, { iccid, packageId, idempotencyKey: 'unreadable', description: 'customer 9' });
      expect(result.data!.purchaseTopup).toMatchObject({
        __typename: 'PurchaseTopupSuccess',
        replayed: false,
        order: { packageId, description: 'customer 9' },
      });
      const [order] = h.sandbox.control.orders();
      expect((result.data!.purchaseTopup as any).order.id).toBe(String(order!.id));
      expect(submits(h)).toBe(1);
      expect(searches(h)).toBe(2); // before the submit, and the reconciling one
      h.sandbox.control.resetCalls();
      const replay = await buy(h, { iccid, packageId, idempotencyKey: 'unreadable', description: 'customer 9' });
      expect(replay.data!.purchaseTopup).toEqual({ ...result.data!.purchaseTopup, replayed: true });
      expect(h.sandbox.control.countCalls()).toBe(0);
      expect(h.sandbox.control.orders()).toHaveLength(1);
    },
  );

  it('an unreadable 2xx whose order cannot be found yet → outcome unknown (not "nothing was bought"), IDEMPOTENCY_IN_PROGRESS on a retry, the order once the list is readable — never a second submit', async () => {
    h = await startHarness();
    const { iccid, packageId } = await activeSimWithPackage(h);
    // The order is placed; the answer is held 300 ms and then arrives unreadable; meanwhile the order list goes down.
    h.sandbox.control.addFault({
      endpoint: 'submitTopup',
      malformedJson: true,
      afterProcessing: true,
      latencyMs: 300,
      times: 1,
    });
    const first = buy(h, { iccid, packageId, idempotencyKey: 'unreadable-2' });
    await expect.poll(() => h.sandbox.control.orders().length, { timeout: 5_000, interval: 5 }).toBe(1);
    const listDown = h.sandbox.control.addFault({ endpoint: 'orders', errorStatus: 503 });
    const answer = (await first).data!.purchaseTopup as any;
    expect(answer).toMatchObject({ __typename: 'UpstreamUnavailableError', code: 'UPSTREAM_UNAVAILABLE' });
    expect(answer.message).not.toMatch(/nothing was bought/);
    expect(answer.message).toMatch(/do not use a new idempotencyKey/);

    const soon = await buy(h, { iccid, packageId, idempotencyKey: 'unreadable-2' });
    expect(soon.data!.purchaseTopup).toMatchObject({
      __typename: 'IdempotencyInProgressError',
      code: 'IDEMPOTENCY_IN_PROGRESS',
    });
    h.sandbox.control.removeFault(listDown);
    const found = await buy(h, { iccid, packageId, idempotencyKey: 'unreadable-2' });
    expect(found.data!.purchaseTopup).toMatchObject({
      __typename: 'PurchaseTopupSuccess',
      replayed: true,
      order: { id: String(h.sandbox.control.orders()[0]!.id) },
    });
    expect(submits(h)).toBe(1);
    expect(h.sandbox.control.orders()).toHaveLength(1);
  });
});

describe('purchaseTopup: 4xx refusals are mapped by what the upstream said', () => {
  it.each([
    [
      '422 on description',
      422,
      {
        data: { description: 'The description may not be greater than 255 characters.' },
        meta: { message: 'the parameter is invalid' },
      },
    ],
    [
      '422 order limit (documented)',
      422,
      { data: { package_id: 'validation.order_exceed_limit' }, meta: { message: 'the parameter is invalid' } },
    ],
    [
      '422 on missing fields',
      422,
      { data: { iccid: 'The iccid field is required.', package_id: 'The package id field is required.' } },
    ],
    ['422 with an unknown business code', 422, { code: 53, reason: 'An unexpected error occurred.' }],
    ['409 without a body the gateway knows', 409, { message: 'Conflict' }],
  ])(
    '%s → PURCHASE_REFUSED (not PACKAGE_NOT_AVAILABLE), not replayed: the same key succeeds once the upstream accepts',
    async (_name, status, body) => {
      h = await startHarness();
      const { iccid, packageId } = await activeSimWithPackage(h);
      h.sandbox.control.addFault({ endpoint: 'submitTopup', rejectWith: { status, body }, times: 1 });
      const refused = await buy(h, { iccid, packageId, idempotencyKey: 'refused' });
      expect(refused.data!.purchaseTopup).toMatchObject({
        __typename: 'PurchaseRefusedError',
        code: 'PURCHASE_REFUSED',
      });
      expect((refused.data!.purchaseTopup as any).message).not.toContain('255 characters'); // upstream prose is never echoed
      expect(h.sandbox.control.orders()).toHaveLength(0);
      const retried = await buy(h, { iccid, packageId, idempotencyKey: 'refused' });
      expect(retried.data!.purchaseTopup).toMatchObject({ __typename: 'PurchaseTopupSuccess', replayed: false });
      expect(submits(h)).toBe(2);
      expect(h.sandbox.control.orders()).toHaveLength(1);
    },
  );

  it('an unrecognised refusal is checked against the order list: an order that landed anyway is returned, not "refused"', async () => {
    h = await startHarness();
    const { iccid, packageId } = await activeSimWithPackage(h);
    h.sandbox.control.addFault({
      endpoint: 'submitTopup',
      rejectWith: { status: 409, body: {} },
      afterProcessing: true,
      times: 1,
    });
    const result = await buy(h, { iccid, packageId, idempotencyKey: 'odd-409' });
    expect(result.data!.purchaseTopup).toMatchObject({
      __typename: 'PurchaseTopupSuccess',
      order: { id: String(h.sandbox.control.orders()[0]!.id) },
    });
    expect(submits(h)).toBe(1);
    expect(searches(h)).toBe(2);
  });

  it('the documented refusals keep their codes: invalid package → PACKAGE_NOT_AVAILABLE (replayed), unknown ICCID → SIM_NOT_FOUND, with no confirming search', async () => {
    h = await startHarness();
    const { iccid } = await activeSimWithPackage(h);
    const wrongPackage = await buy(h, { iccid, packageId: 'no-such-package', idempotencyKey: 'documented' });
    expect(wrongPackage.data!.purchaseTopup).toMatchObject({ __typename: 'PackageNotAvailableError' });
    expect(searches(h)).toBe(1);
    h.sandbox.control.resetCalls();
    expect(
      (await buy(h, { iccid, packageId: 'no-such-package', idempotencyKey: 'documented' })).data!.purchaseTopup,
    ).toEqual(wrongPackage.data!.purchaseTopup);
    expect(h.sandbox.control.countCalls()).toBe(0);
  });
});

describe('purchaseTopup: the order reference is matched exactly where the gateway writes it, across pages', () => {
  /** Places an order straight at the sandbox, bypassing the gateway (another system, or a client before this check). */
  async function placeDirectly(
    harness: Harness,
    token: string,
    input: { iccid: string; packageId: string; description: string },
  ) {
    const response = await fetch(`${harness.sandbox.url}${BASE_PATHS.pressone}/orders/topups`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ iccid: input.iccid, package_id: input.packageId, description: input.description }),
    });
    expect(response.status).toBe(200);
  }

  it('a forgotten key whose order sits behind a full page of newer orders that merely contain its reference: the real order is found on page 2, 0 submits', async () => {
    h = await startHarness();
    const { iccid, packageId } = await activeSimWithPackage(h);
    const first = await buy(h, { iccid, packageId, idempotencyKey: 'deep', description: 'customer 1' });
    expect(first.data!.purchaseTopup).toMatchObject({ __typename: 'PurchaseTopupSuccess' });
    const realId = (first.data!.purchaseTopup as any).order.id;
    const reference = orderReference('partner:sandbox', 'deep');
    const token = await fetchToken(h.sandbox.url);
    // 60 newer orders on the same SIM whose text contains the reference, but not at the end where the gateway puts it.
    for (let i = 0; i < 60; i++) {
      h.clock.advance(1_000);
      await placeDirectly(h, token, {
        iccid,
        packageId,
        description: i % 2 ? `[${reference}] copied ${i}` : `see ${reference} ${i}`,
      });
    }
    await h.gateway.close();
    const b = startGateway(h);
    try {
      h.sandbox.control.resetCalls();
      const retry = await b.buy({ iccid, packageId, idempotencyKey: 'deep', description: 'customer 1' });
      expect(retry).toMatchObject({
        __typename: 'PurchaseTopupSuccess',
        replayed: true,
        order: { id: realId, description: 'customer 1' },
      });
      expect(searches(h)).toBe(2); // two pages of 50
      expect(submits(h)).toBe(0);
      expect(h.sandbox.control.orders()).toHaveLength(61);
    } finally {
      await b.close();
    }
  });

  it.each([['x [gw-0123456789abcdef0123]'], ['[GW-anything'], ['ref gw-0123456789abcdef0123 here'], ['[ gw-']])(
    'a client description holding the reference syntax (%s) → BAD_USER_INPUT before any upstream call',
    async (description) => {
      h = await startHarness();
      const { iccid, packageId } = await activeSimWithPackage(h);
      const result = await buy(h, { iccid, packageId, idempotencyKey: 'spoof', description });
      expect(result.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.description' });
      expect(h.sandbox.control.countCalls()).toBe(0);
    },
  );
});

describe('purchaseTopup: the key is recorded as submitting before the POST leaves', () => {
  it('while the search runs the record has no submit mark; while the POST is under way it has one (what a persistent store must write before the POST)', async () => {
    h = await startHarness({ env: SHORT_TIMEOUTS });
    const { iccid, packageId } = await activeSimWithPackage(h);
    h.sandbox.control.addFault({ endpoint: 'orders', latencyMs: 400, times: 1 });
    h.sandbox.control.addFault({ endpoint: 'submitTopup', hang: true, times: 1 });
    const record = () => h.gateway.services.purchases.records.get('partner:sandbox', 'marked') as Promise<any>;
    const searchedAt = h.clock.now();
    const answer = buy(h, { iccid, packageId, idempotencyKey: 'marked' });
    await expect.poll(async () => (await record())?.state, { timeout: 5_000, interval: 2 }).toBe('running');
    expect((await record()).submittingSince).toBeUndefined(); // the search is held up 400 ms
    // The sandbox records the hanging submit on arrival: by then the mark must already be there.
    await expect.poll(() => submits(h), { timeout: 5_000, interval: 2 }).toBe(1);
    expect(await record()).toMatchObject({ state: 'running', submittingSince: searchedAt });
    expect(h.sandbox.control.orders()).toHaveLength(0);
    // The submit hangs past the headers timeout: ambiguous, not found → outcome unknown from when the POST was sent.
    expect((await answer).data!.purchaseTopup).toMatchObject({ __typename: 'UpstreamUnavailableError' });
    expect(await record()).toMatchObject({ state: 'unknown', since: searchedAt });
  });
});

describe('purchaseTopup: the principal is the AUTH_API_KEYS entry name', () => {
  it('a key rotated under the same name finds the earlier order (replay, 0 submits); the entry renamed is a new scope (a new order)', async () => {
    const OLD_KEY = 'old-key-0123456789abcdef-xyz';
    const NEW_KEY = 'new-key-0123456789abcdef-xyz';
    h = await startHarness({ env: { AUTH_API_KEYS: `backend:${OLD_KEY}` } });
    const { iccid, packageId } = await activeSimWithPackage(h);
    const input = { iccid, packageId, idempotencyKey: 'rotate-me' };
    const first = await h.gql(PurchaseTopup, { input }, { 'x-api-key': OLD_KEY });
    expect(first.data!.purchaseTopup).toMatchObject({ __typename: 'PurchaseTopupSuccess', replayed: false });
    await h.gateway.close();

    const rotated = startGateway(h, { AUTH_API_KEYS: `backend:${NEW_KEY}` });
    try {
      expect(await rotated.buy(input, { 'x-api-key': NEW_KEY })).toMatchObject({
        __typename: 'PurchaseTopupSuccess',
        replayed: true,
        order: { id: (first.data!.purchaseTopup as any).order.id },
      });
      expect(submits(h)).toBe(1);
    } finally {
      await rotated.close();
    }
    const renamed = startGateway(h, { AUTH_API_KEYS: `backend-v2:${NEW_KEY}` });
    try {
      expect(await renamed.buy(input, { 'x-api-key': NEW_KEY })).toMatchObject({
        __typename: 'PurchaseTopupSuccess',
        replayed: false,
      });
      expect(submits(h)).toBe(2);
      expect(h.sandbox.control.orders()).toHaveLength(2);
    } finally {
      await renamed.close();
    }
  });
});
