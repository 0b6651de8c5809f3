/**
 * Idempotency across a fleet: three in-process gateways on one sandbox share one real Redis (the test's own
 * redis-server), orders and calls counted at the sandbox. Covers: concurrent same-key purchases over the replicas, a
 * submit hanging on one replica while the client retries on others, a replica that stops renewing its claim (its lease
 * expires: taken over only through the order-list search), Redis down / hung / restarted empty (purchases fail closed,
 * nothing submitted without a durable claim, an old key never bought twice).
 * Leases and the wait for a peer are real time (kept short here); grace periods are the injected clock.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { orderReference } from '../../src/domain/purchase/index.ts';
import { type Harness, type Replica, startHarness } from '../support/harness.ts';
import { type RedisServer, startRedisServer } from '../support/redis-server.ts';
import { until } from '../support/until.ts';

const PURCHASE = /* GraphQL */ `
  mutation FleetClaimsPurchase($input: PurchaseTopupInput!) {
    purchaseTopup(input: $input) {
      __typename
      ... on PurchaseTopupSuccess { replayed order { id packageId description } }
      ... on Error { code message }
      ... on IdempotencyInProgressError { retryAfterSeconds }
      ... on PurchasesUnavailableError { retryAfterSeconds }
    }
  }
`;
const API_KEY = 'fleet-backend-api-key-0123456789';
/** Short upstream timeouts, so a hanging submit ends (ambiguous) within ~1–2 s. */
const SHORT_TIMEOUTS = {
  UPSTREAM_CONNECT_TIMEOUT_MS: '300',
  UPSTREAM_HEADERS_TIMEOUT_MS: '700',
  UPSTREAM_BODY_TIMEOUT_MS: '300',
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let server: RedisServer;
let h: Harness | undefined;

beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(async () => server?.stop());
beforeEach(() => server.cli('FLUSHALL'));
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function fleet(env: Record<string, string> = {}): Promise<Harness> {
  h = await startHarness({
    replicas: 3,
    env: { REDIS_URL: server.url, AUTH_API_KEYS: `backend:${API_KEY}`, ...env },
  });
  const harness = h;
  await until(() => harness.replicas.every((r) => r.gateway.stores.redis?.state === 'up'));
  return harness;
}

function target(harness: Harness) {
  for (const iccid of harness.sandbox.control.iccids({ status: 'ACTIVE', hasTopups: true })) {
    const packageId = harness.sandbox.control.topupPackageIds(iccid).find((id) => !id.startsWith('sandbox-trigger-'));
    if (packageId) return { iccid, packageId };
  }
  throw new Error('the seeded sandbox has no such SIM');
}

async function buy(replica: Replica, input: { iccid: string; packageId: string; idempotencyKey: string }) {
  const result = await replica.gql(PURCHASE, { input }, { 'x-api-key': API_KEY });
  expect(result.errors).toBeUndefined();
  return result.data.purchaseTopup;
}

const submits = (harness: Harness) => harness.sandbox.control.countCalls({ endpoint: 'submitTopup' });
const searches = (harness: Harness) => harness.sandbox.control.countCalls({ endpoint: 'orders' });
const orders = (harness: Harness) => harness.sandbox.control.orders();

/** Cuts a replica off Redis for good (no reconnect): from the fleet's view it died — its lease is no longer renewed. */
const cutOff = (replica: Replica) => replica.gateway.stores.redis!.command.disconnect();

describe('purchases across three replicas sharing Redis', () => {
  it('60 concurrent same-key purchases spread over 3 replicas → 1 search, 1 upstream order, every call a success naming it', async () => {
    const f = await fleet();
    const { iccid, packageId } = target(f);
    const input = { iccid, packageId, idempotencyKey: 'sixty' };
    const answers = await Promise.all(Array.from({ length: 60 }, (_, i) => buy(f.replicas[i % 3]!, input)));

    expect(orders(f)).toHaveLength(1);
    expect(submits(f)).toBe(1);
    expect(searches(f)).toBe(1);
    const [order] = orders(f);
    expect(order!.description).toBe(`[${orderReference('partner:backend', 'sixty')}]`);
    for (const answer of answers)
      expect(answer).toMatchObject({ __typename: 'PurchaseTopupSuccess', order: { id: String(order!.id) } });
    // The replica that ran it answers its callers `replayed: false`; the other two replay the shared record.
    expect(answers.filter((a) => a.replayed === false)).toHaveLength(20);
  });

  it('a submit hanging on A while the client retries on B → IDEMPOTENCY_IN_PROGRESS (B waited PURCHASE_WAIT_FOR_PEER_MS), then A’s order on C — 1 submit, 1 order', async () => {
    const f = await fleet({ ...SHORT_TIMEOUTS, PURCHASE_WAIT_FOR_PEER_MS: '150' });
    const [a, b, c] = f.replicas as [Replica, Replica, Replica];
    const { iccid, packageId } = target(f);
    const input = { iccid, packageId, idempotencyKey: 'hang-on-a' };
    // The upstream places the order, then never answers: A is stuck in its submit until its deadline.
    f.sandbox.control.addFault({ endpoint: 'submitTopup', hang: true, afterProcessing: true, times: 1 });
    const onA = buy(a, input);
    await until(() => submits(f) === 1);

    const started = performance.now();
    expect(await buy(b, input)).toMatchObject({
      __typename: 'IdempotencyInProgressError',
      code: 'IDEMPOTENCY_IN_PROGRESS',
      retryAfterSeconds: 1,
    });
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
    expect(submits(f)).toBe(1);

    // A's submit times out (ambiguous), its reconciling search finds the order.
    const first = await onA;
    expect(first).toMatchObject({ __typename: 'PurchaseTopupSuccess', replayed: false });
    expect(await buy(c, input)).toMatchObject({
      __typename: 'PurchaseTopupSuccess',
      replayed: true,
      order: { id: first.order.id },
    });
    expect(submits(f)).toBe(1);
    expect(orders(f)).toHaveLength(1);
  });

  it('a retry on B that waits for A’s hanging submit (wait longer than the submit) gets A’s order — 1 submit, 1 order', async () => {
    const f = await fleet({ ...SHORT_TIMEOUTS, PURCHASE_WAIT_FOR_PEER_MS: '8000' });
    const [a, b] = f.replicas as [Replica, Replica];
    const { iccid, packageId } = target(f);
    const input = { iccid, packageId, idempotencyKey: 'wait-for-a' };
    f.sandbox.control.addFault({ endpoint: 'submitTopup', hang: true, afterProcessing: true, times: 1 });
    const onA = buy(a, input);
    await until(() => submits(f) === 1);
    const onB = await buy(b, input);
    const first = await onA;
    expect(onB).toMatchObject({ __typename: 'PurchaseTopupSuccess', replayed: true, order: { id: first.order.id } });
    expect(submits(f)).toBe(1);
    expect(orders(f)).toHaveLength(1);
  });

  it('A stops renewing its claim in the middle of a submit whose order landed: once the lease expires B takes over through the search → that order, 1 submit, 1 order', async () => {
    const f = await fleet({ ...SHORT_TIMEOUTS, PURCHASE_CLAIM_LEASE_MS: '300', PURCHASE_WAIT_FOR_PEER_MS: '0' });
    const [a, b] = f.replicas as [Replica, Replica];
    const { iccid, packageId } = target(f);
    const input = { iccid, packageId, idempotencyKey: 'a-dies' };
    f.sandbox.control.addFault({ endpoint: 'submitTopup', hang: true, afterProcessing: true, times: 1 });
    const onA = buy(a, input);
    await until(() => orders(f).length === 1);
    cutOff(a);

    expect(await buy(b, input)).toMatchObject({ __typename: 'IdempotencyInProgressError' }); // lease still live
    let answer: any;
    await until(async () => {
      answer = await buy(b, input);
      return answer.__typename !== 'IdempotencyInProgressError';
    });
    const [order] = orders(f);
    expect(answer).toMatchObject({
      __typename: 'PurchaseTopupSuccess',
      replayed: true,
      order: { id: String(order!.id) },
    });
    expect(submits(f)).toBe(1);
    expect(orders(f)).toHaveLength(1);
    await onA; // A ends its own run (it cannot record it: cut off)
    expect(await buy(b, input)).toMatchObject({ __typename: 'PurchaseTopupSuccess', replayed: true });
    expect(submits(f)).toBe(1);
  });

  it('A stops renewing its claim while its submit may still land (not listed yet): B’s takeover never re-submits within the grace period; after it, one fresh submit', async () => {
    const f = await fleet({ ...SHORT_TIMEOUTS, PURCHASE_CLAIM_LEASE_MS: '300', PURCHASE_WAIT_FOR_PEER_MS: '0' });
    const [a, b] = f.replicas as [Replica, Replica];
    const { iccid, packageId } = target(f);
    const input = { iccid, packageId, idempotencyKey: 'a-dies-early' };
    // The submit hangs before the upstream processes it: nothing is ordered.
    f.sandbox.control.addFault({ endpoint: 'submitTopup', hang: true, times: 1 });
    const onA = buy(a, input);
    await until(() => submits(f) === 1);
    cutOff(a);
    await sleep(500); // the lease expires
    const searchesBefore = searches(f);

    expect(await buy(b, input)).toMatchObject({ __typename: 'IdempotencyInProgressError' });
    expect(searches(f)).toBe(searchesBefore + 1); // reconciled: searched, not found, within the grace period
    expect(submits(f)).toBe(1);
    await onA;

    f.clock.advance(121_000); // PURCHASE_RECONCILE_GRACE_SECONDS (120) later the order never landed
    expect(await buy(b, input)).toMatchObject({ __typename: 'PurchaseTopupSuccess', replayed: false });
    expect(submits(f)).toBe(2);
    expect(orders(f)).toHaveLength(1);
  });
});

describe('purchases when Redis fails', () => {
  it('Redis stopped: PURCHASES_UNAVAILABLE at once on every replica, 0 upstream calls; Redis back (empty): purchases work again', async () => {
    const f = await fleet();
    const { iccid, packageId } = target(f);
    await server.stop();
    await until(() => f.replicas.every((r) => r.gateway.stores.redis?.state === 'down'));
    const before = f.sandbox.control.countCalls();
    for (const replica of f.replicas) {
      expect(await buy(replica, { iccid, packageId, idempotencyKey: 'no-redis' })).toMatchObject({
        __typename: 'PurchasesUnavailableError',
        code: 'PURCHASES_UNAVAILABLE',
        retryAfterSeconds: 5,
      });
    }
    expect(f.sandbox.control.countCalls()).toBe(before);
    expect(submits(f)).toBe(0);

    await server.restart();
    await until(() => f.replicas.every((r) => r.gateway.stores.redis?.state === 'up'));
    expect(await buy(f.replicas[1]!, { iccid, packageId, idempotencyKey: 'no-redis' })).toMatchObject({
      __typename: 'PurchaseTopupSuccess',
      replayed: false,
    });
    expect(submits(f)).toBe(1);
  });

  it('Redis hung (SIGSTOP): PURCHASES_UNAVAILABLE within the command timeout, 0 upstream calls', async () => {
    const f = await fleet({ REDIS_COMMAND_TIMEOUT_MS: '200' });
    const { iccid, packageId } = target(f);
    const before = f.sandbox.control.countCalls();
    server.pause();
    try {
      const started = performance.now();
      expect(await buy(f.replicas[0]!, { iccid, packageId, idempotencyKey: 'hung' })).toMatchObject({
        __typename: 'PurchasesUnavailableError',
      });
      expect(performance.now() - started).toBeLessThan(1_000);
    } finally {
      server.resume();
    }
    expect(f.sandbox.control.countCalls()).toBe(before);
  });

  it('Redis lost between the claim and the submit mark (during the search): nothing is submitted — PURCHASES_UNAVAILABLE', async () => {
    const f = await fleet();
    const { iccid, packageId } = target(f);
    f.sandbox.control.addFault({ endpoint: 'orders', latencyMs: 600, times: 1 });
    const answer = buy(f.replicas[0]!, { iccid, packageId, idempotencyKey: 'lost-mid-way' });
    await until(() => server.cli('DBSIZE') !== '0'); // claimed; the search is held up 600 ms
    await server.stop();
    try {
      expect(await answer).toMatchObject({ __typename: 'PurchasesUnavailableError' });
      expect(searches(f)).toBe(1);
      expect(submits(f)).toBe(0);
      expect(orders(f)).toHaveLength(0);
    } finally {
      await server.restart();
    }
  });

  it('Redis restarted empty: a retry of an old key on another replica finds the order by the search — replayed, no second order', async () => {
    const f = await fleet();
    const { iccid, packageId } = target(f);
    const input = { iccid, packageId, idempotencyKey: 'old-key' };
    const first = await buy(f.replicas[0]!, input);
    expect(first).toMatchObject({ __typename: 'PurchaseTopupSuccess', replayed: false });

    await server.restart();
    await until(() => f.replicas.every((r) => r.gateway.stores.redis?.state === 'up'));
    expect(server.cli('DBSIZE')).toBe('0');
    for (const replica of [f.replicas[1]!, f.replicas[2]!, f.replicas[0]!]) {
      expect(await buy(replica, input)).toMatchObject({
        __typename: 'PurchaseTopupSuccess',
        replayed: true,
        order: { id: first.order.id },
      });
    }
    expect(submits(f)).toBe(1);
    expect(orders(f)).toHaveLength(1);
    expect(searches(f)).toBe(2); // the first purchase's, and the one after the restart (then recorded again)
  });
});
