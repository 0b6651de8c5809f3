/**
 * The scheduler end to end (README "How the scheduler decides"): GraphQL through `yoga.fetch`, the built-in sandbox
 * counting every upstream call at its clock time, the injected clock driving every wait. Limits are Airalo's newest
 * (usage 10/min per ICCID and 5/s per partner, history 10/min per ICCID, token 3/min), set explicitly.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { UpstreamLimits } from '../../src/platform/upstream-limits.ts';
import type { GqlResult, Harness } from '../support/harness.ts';
import { type RedisServer, startRedisServer } from '../support/redis-server.ts';
import { until } from '../support/until.ts';
import {
  AIRALO_LIMITS,
  advance,
  arrived,
  as,
  driveUntil,
  maxInWindow,
  maxPerKeyInWindow,
  prng,
  settle,
  startScheduled,
  type Who,
  watch,
} from './support.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const SIMS_USAGE = `query ($ids: [ID!]!) { sims(iccids: $ids) { iccid usage { remainingMb stale } } }`;
const SIM_USAGE = `query ($id: ID!) { sim(iccid: $id) { iccid usage { remainingMb stale } } }`;
const SIM_FULL = `query ($id: ID!) { sim(iccid: $id) { iccid usage { remainingMb } packageHistory { status } } }`;
const SIMS_HISTORY = `query ($ids: [ID!]!) { sims(iccids: $ids) { iccid packageHistory { status } } }`;
const BALANCE = `{ balance { available { amount } } }`;
const BUY = `mutation ($input: PurchaseTopupInput!) {
  purchaseTopup(input: $input) {
    __typename
    ... on Error { code message }
    ... on RateLimitedError { retryAfterSeconds }
  }
}`;

type Errors = NonNullable<GqlResult<unknown>['errors']>;
const codes = (errors: Errors | undefined) => (errors ?? []).map((e) => e.extensions?.code);
/** `sims.<i>.usage` errors, by ICCID. */
function usageErrors(result: GqlResult<any>, ids: readonly string[]): Map<string, Errors[number]> {
  const byIccid = new Map<string, Errors[number]>();
  for (const error of result.errors ?? []) {
    const [root, index, field] = error.path ?? [];
    if (root === 'sims' && field === 'usage') byIccid.set(ids[index as number]!, error);
  }
  return byIccid;
}

const usageCalls = () => h!.sandbox.control.calls({ endpoint: 'usage' });

describe('limits are never exceeded, whatever the clients do', () => {
  it.for([1, 2, 3, 4])(
    'random mix #%i: concurrent queries of three principals → per-ICCID and partner-wide limits hold at the sandbox, 0 upstream 429s',
    async (seed) => {
      // The sandbox enforces the same per-ICCID limits (fixed windows): a gateway overrunning one would get 429s.
      h = await startScheduled({
        env: {
          CACHE_USAGE_TTL_SECONDS: '2',
          CACHE_STALE_WHILE_REVALIDATE_SECONDS: '3',
          CACHE_HISTORY_TTL_SECONDS: '0',
          CACHE_BALANCE_TTL_SECONDS: '1',
        },
        limits: {
          ...AIRALO_LIMITS,
          endpoints: { ...AIRALO_LIMITS.endpoints, packages: [{ limit: 1, windowMs: 6_000, scope: 'per-iccid' }] },
        },
        sandbox: { usageLimitPerMinute: 10, historyIntervalSeconds: 6, tokenLimitPerMinute: 3 },
      });
      const random = prng(seed);
      const pool = h.sandbox.control.iccids().slice(0, 30);
      const pick = () => pool[Math.floor(random() * pool.length)]!;
      const principals: Who[] = ['alpha', 'beta', 'gamma'];
      const pending: Promise<GqlResult<any>>[] = [];
      // 12 s of traffic, a few queries per 100 ms step, then until every query has its answer.
      for (let t = 0; t < 12_000; t += 100) {
        const burst = Math.floor(random() * 3);
        for (let i = 0; i < burst; i++) {
          const who = as(principals[Math.floor(random() * principals.length)]!);
          const kind = random();
          const ids = Array.from({ length: 1 + Math.floor(random() * 20) }, pick);
          if (kind < 0.45) pending.push(h.gql(SIMS_USAGE, { ids }, who));
          else if (kind < 0.75) pending.push(h.gql(SIM_FULL, { id: pick() }, who));
          else if (kind < 0.9) pending.push(h.gql(SIMS_HISTORY, { ids: ids.slice(0, 5) }, who));
          else pending.push(h.gql(BALANCE, {}, who));
        }
        await settle(h);
        h.clock.advance(100);
        await settle(h);
      }
      let answered = 0;
      for (const p of pending) void p.then(() => answered++);
      await driveUntil(h, () => answered === pending.length, 30_000);
      const results = await Promise.all(pending);

      const control = h.sandbox.control;
      expect(control.countCalls({ status: 429 })).toBe(0);
      expect(maxInWindow(usageCalls(), 1_000)).toBeLessThanOrEqual(5);
      expect(maxPerKeyInWindow(usageCalls(), 60_000)).toBeLessThanOrEqual(10);
      expect(maxPerKeyInWindow(control.calls({ endpoint: 'packages' }), 6_000)).toBeLessThanOrEqual(1);
      expect(maxInWindow(control.calls({ endpoint: 'token' }), 60_000)).toBeLessThanOrEqual(3);
      // The mix did press on the limits: calls waited, and some were refused — with a time to retry, never anything
      // else (a queued call never fails for another reason).
      const scheduler = h.gateway.scheduler;
      expect(scheduler.stats.queued).toBeGreaterThan(0);
      expect(scheduler.stats.refused).toBeGreaterThan(0);
      const errors = results.flatMap((r) => r.errors ?? []);
      expect(new Set(codes(errors))).toEqual(new Set(['RATE_LIMITED']));
      for (const error of errors) expect(error.extensions!.retryAfterSeconds).toBeGreaterThanOrEqual(1);
      expect(scheduler.waiting).toBe(0);
      expect(scheduler.stats.unattributed).toBe(0);
    },
  );
});

describe('fairness and honest retryAfterSeconds', () => {
  it('one principal’s cold 100-SIM query does not starve another’s 1-SIM query: answered at the first slot that frees', async () => {
    h = await startScheduled();
    const ids = h.sandbox.control.iccids().slice(0, 100);
    const single = h.sandbox.control.iccids()[120]!;
    const t0 = h.clock.now();
    const big = watch(h, h.gql(SIMS_USAGE, { ids }, as('alpha')));
    // 100 details + 100 usage + 1 token: 5 usage calls now, 5 waiting for the next second, 90 refused.
    await arrived(h, 201);
    expect(h.gateway.scheduler.waiting).toBe(5);
    const small = watch(h, h.gql(SIM_USAGE, { id: single }, as('beta')));
    await arrived(h, 203);
    expect(h.gateway.scheduler.waiting).toBe(6);
    await driveUntil(h, () => small.value !== undefined);
    // One budget slot: the first second's five calls free at 1 s; beta's call is admitted then, second in the rotation.
    expect(small.at! - t0).toBe(1_000);
    expect(small.value!.errors).toBeUndefined();
    expect(small.value!.data.sim.usage.remainingMb).toEqual(expect.any(Number));
    const betaCall = usageCalls().find((c) => c.iccid === single)!;
    expect(betaCall.at - t0).toBe(1_000);
    await driveUntil(h, () => big.value !== undefined);
    expect(big.at! - t0).toBe(1_500); // alpha's last waiter gave up at its 1.5 s bound
    const refused = usageErrors(big.value!, ids);
    expect(refused.size).toBe(91); // 5 at once + 4 at 1 s served; the 5th waiter lost its slot to beta
    expect(maxInWindow(usageCalls(), 1_000)).toBe(5);
  });

  it('a refused field’s retryAfterSeconds is when its retry succeeds (±1 s), and retries made then use every slot', async () => {
    h = await startScheduled();
    const ids = h.sandbox.control.iccids().slice(0, 60);
    const t0 = h.clock.now();
    const first = h.gql(SIMS_USAGE, { ids }, as('alpha'));
    await arrived(h, 121);
    await driveUntil(h, () => h!.gateway.scheduler.waiting === 0);
    const refused = usageErrors(await first, ids);
    expect(refused.size).toBe(50);
    const retryAt = new Map<string, number>(); // ICCID → clock time it was told to retry at
    for (const [iccid, error] of refused) {
      expect(error.extensions).toMatchObject({ code: 'RATE_LIMITED' });
      retryAt.set(iccid, t0 + error.extensions!.retryAfterSeconds * 1000);
    }
    // The client retries each field when told (one query per instant, as a screen re-asking for what it lacks).
    const retries: Promise<GqlResult<any>>[] = [];
    const due = [...new Set(retryAt.values())].sort((a, b) => a - b);
    for (const at of due) {
      await driveUntil(h, () => h!.clock.now() >= at);
      const dueIds = [...retryAt].filter(([, t]) => t === at).map(([iccid]) => iccid);
      retries.push(h.gql(SIMS_USAGE, { ids: dueIds }, as('alpha')));
      await settle(h);
    }
    let answered = 0;
    for (const r of retries) void r.then(() => answered++);
    await driveUntil(h, () => answered === retries.length);
    for (const result of await Promise.all(retries)) expect(result.errors).toBeUndefined();
    // Each retried field's upstream call (counted at the sandbox) came within 1 s after the time it was given.
    for (const [iccid, at] of retryAt) {
      const calls = usageCalls().filter((c) => c.iccid === iccid);
      expect(calls).toHaveLength(1);
      expect(calls[0]!.at - at).toBeGreaterThanOrEqual(0);
      expect(calls[0]!.at - at).toBeLessThanOrEqual(1_000);
    }
    // Not pessimistic either: the 60 reads took 12 whole seconds of the 5/s budget, no second idle.
    const perSecond = new Map<number, number>();
    for (const call of usageCalls()) {
      const second = Math.floor((call.at - t0) / 1000);
      perSecond.set(second, (perSecond.get(second) ?? 0) + 1);
    }
    expect([...perSecond.entries()].sort((a, b) => a[0] - b[0])).toEqual(Array.from({ length: 12 }, (_, s) => [s, 5]));
    expect(h.gateway.scheduler.stats.unattributed).toBe(0);
  });
});

describe('foreground before background', () => {
  it('stale-while-revalidate refreshes take only spare budget: a foreground burst right after them is admitted at once', async () => {
    h = await startScheduled({ env: { CACHE_USAGE_TTL_SECONDS: '60', CACHE_STALE_WHILE_REVALIDATE_SECONDS: '600' } });
    const warm = h.sandbox.control.iccids().slice(0, 10);
    const cold = h.sandbox.control.iccids().slice(20, 23);
    const warmed = h.gql(SIMS_USAGE, { ids: warm }, as('alpha'));
    await arrived(h, 21);
    await driveUntil(h, () => h!.gateway.scheduler.waiting === 0);
    expect((await warmed).errors).toBeUndefined();
    h.clock.advance(61_000); // past the usage TTL, within stale-while-revalidate; nobody is waiting

    const before = usageCalls().length;
    const stale = await h.gql(SIMS_USAGE, { ids: warm }, as('alpha'));
    expect(stale.data.sims.every((s: any) => s.usage.stale)).toBe(true); // answered at once, 10 refreshes asked
    await settle(h);
    const refreshes = usageCalls().length - before;
    expect(refreshes).toBe(2); // ⌊5 / 2⌋: background never takes the last half of the window
    // Three clients ask for cold SIMs in the same instant: no clock time passes, yet all three are answered.
    const answers = await Promise.all(cold.map((id) => h!.gql(SIM_USAGE, { id }, as('beta'))));
    for (const answer of answers) expect(answer.errors).toBeUndefined();
    expect(usageCalls().length - before).toBe(5);
    expect(maxInWindow(usageCalls(), 1_000)).toBe(5);
  });

  it('a call with a client waiting is never queued behind a background one: background calls never queue', async () => {
    h = await startScheduled({ env: { CACHE_USAGE_TTL_SECONDS: '60', CACHE_STALE_WHILE_REVALIDATE_SECONDS: '600' } });
    const ids = h.sandbox.control.iccids().slice(0, 10);
    const warmed = h.gql(SIMS_USAGE, { ids }, as('alpha'));
    await arrived(h, 21);
    await driveUntil(h, () => h!.gateway.scheduler.waiting === 0);
    expect((await warmed).errors).toBeUndefined();
    h.clock.advance(61_000);
    // A cold read that must wait (the budget is spent by 5 foreground reads first)…
    const spent = h.sandbox.control.iccids().slice(30, 35);
    await Promise.all(spent.map((id) => h!.gql(SIM_USAGE, { id }, as('beta'))));
    const waiting = watch(h, h.gql(SIM_USAGE, { id: h.sandbox.control.iccids()[40]! }, as('gamma')));
    await until(() => h!.gateway.scheduler.waiting === 1);
    // …then 10 stale reads, each asking for a background refresh: none is queued, none is admitted meanwhile.
    const stale = await h.gql(SIMS_USAGE, { ids }, as('alpha'));
    expect(stale.data.sims.every((s: any) => s.usage.stale)).toBe(true);
    expect(h.gateway.scheduler.waiting).toBe(1);
    const t = h.clock.now();
    await driveUntil(h, () => waiting.value !== undefined);
    expect(waiting.at! - t).toBe(1_000); // the first slot that freed
    expect(waiting.value!.errors).toBeUndefined();
  });
});

describe('429s', () => {
  it('a 429 with a partner-wide cause blocks the whole endpoint for its Retry-After: no other SIM’s call is sent', async () => {
    h = await startScheduled();
    const [a, b, c] = h.sandbox.control.iccids();
    // The fault's X-RateLimit-Limit (60) matches no per-ICCID limit, and a's own budget had room: partner-wide.
    h.sandbox.control.addFault({ endpoint: 'usage', iccid: a, rateLimit: { retryAfterSeconds: 30 }, times: 1 });
    const limited = await h.gql(SIM_USAGE, { id: a }, as('alpha'));
    expect(limited.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED', retryAfterSeconds: 30 });
    h.clock.advance(10_000);
    const other = await h.gql(SIM_USAGE, { id: b }, as('beta'));
    expect(other.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED', retryAfterSeconds: 20 });
    expect(usageCalls().map((call) => call.iccid)).toEqual([a]);
    h.clock.advance(20_000);
    const after = await h.gql(SIM_USAGE, { id: c }, as('beta'));
    expect(after.errors).toBeUndefined();
    expect(usageCalls().map((call) => call.iccid)).toEqual([a, c]);
    // An endpoint without an ICCID: the balance.
    h.sandbox.control.addFault({ endpoint: 'balance', rateLimit: { retryAfterSeconds: 40 }, times: 1 });
    expect((await h.gql(BALANCE, {}, as('alpha'))).errors?.[0]?.extensions?.retryAfterSeconds).toBe(40);
    expect((await h.gql(BALANCE, {}, as('beta'))).errors?.[0]?.extensions?.retryAfterSeconds).toBe(40);
    expect(h.sandbox.control.countCalls({ endpoint: 'balance' })).toBe(1);
  });

  it('a 429 whose X-RateLimit-Limit is the ICCID’s own limit blocks that ICCID only', async () => {
    const limits: UpstreamLimits = {
      endpoints: { usage: [{ limit: 60, windowMs: 60_000, scope: 'per-iccid' }] },
      all: [],
    };
    h = await startScheduled({ limits });
    const [a, b] = h.sandbox.control.iccids();
    h.sandbox.control.addFault({ endpoint: 'usage', iccid: a, rateLimit: { retryAfterSeconds: 30 }, times: 1 });
    expect((await h.gql(SIM_USAGE, { id: a }, as('alpha'))).errors?.[0]?.extensions?.retryAfterSeconds).toBe(30);
    expect((await h.gql(SIM_USAGE, { id: b }, as('alpha'))).errors).toBeUndefined();
    expect((await h.gql(SIM_USAGE, { id: a }, as('alpha'))).errors?.[0]?.extensions?.retryAfterSeconds).toBe(30);
    expect(usageCalls().map((call) => call.iccid)).toEqual([a, b]);
  });
});

describe('every attempt is counted: token, balance, order search and submit', () => {
  it('one budget on every endpoint counts them all; a refused purchase submitted nothing and succeeds once admitted', async () => {
    h = await startScheduled({
      limits: { endpoints: AIRALO_LIMITS.endpoints, all: [{ limit: 5, windowMs: 60_000, scope: 'per-partner' }] },
    });
    const iccid = h.sandbox.control.iccids({ status: 'ACTIVE', hasTopups: true })[0]!;
    const packageId = h.sandbox.control.topupPackageIds(iccid)[0]!;
    const buy = (key: string) => h!.gql(BUY, { input: { iccid, packageId, idempotencyKey: key } }, as('alpha'));
    // Token + order search + submit: 3 calls; the balance: 1; then a SIM's details: 1 — the budget of 5 is spent.
    expect((await buy('first')).data.purchaseTopup.__typename).toBe('PurchaseTopupSuccess');
    expect((await h.gql(BALANCE, {}, as('alpha'))).errors).toBeUndefined();
    const usage = await h.gql(SIM_USAGE, { id: h.sandbox.control.iccids()[3]! }, as('alpha'));
    expect(usage.data.sim.usage).toBeNull();
    expect(usage.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED', retryAfterSeconds: 60 });
    const refused = await buy('second');
    expect(refused.data.purchaseTopup).toMatchObject({ __typename: 'RateLimitedError', retryAfterSeconds: 60 });
    expect(refused.data.purchaseTopup.message).toMatch(/nothing was submitted/);
    const control = h.sandbox.control;
    expect(control.countCalls()).toBe(5);
    expect(control.orders()).toHaveLength(1);
    await advance(h, 60_000, 1_000);
    expect((await buy('second')).data.purchaseTopup.__typename).toBe('PurchaseTopupSuccess');
    expect(control.orders()).toHaveLength(2);
    expect(maxInWindow(control.calls(), 60_000)).toBeLessThanOrEqual(5);
    expect(h.gateway.scheduler.stats.unattributed).toBe(0);
  });

  it('a submit its own budget refuses is "nothing was bought": RATE_LIMITED, the key retried later buys once', async () => {
    h = await startScheduled({
      limits: {
        endpoints: { submitTopup: [{ limit: 1, windowMs: 60_000, scope: 'per-partner' }] },
        all: [],
      },
    });
    const [x, y] = h.sandbox.control.iccids({ status: 'ACTIVE', hasTopups: true });
    const buy = (iccid: string, key: string) =>
      h!.gql(
        BUY,
        { input: { iccid, packageId: h!.sandbox.control.topupPackageIds(iccid)[0]!, idempotencyKey: key } },
        as('alpha'),
      );
    expect((await buy(x!, 'one')).data.purchaseTopup.__typename).toBe('PurchaseTopupSuccess');
    const refused = await buy(y!, 'two');
    expect(refused.data.purchaseTopup).toMatchObject({ __typename: 'RateLimitedError', retryAfterSeconds: 60 });
    expect(h.sandbox.control.countCalls({ endpoint: 'submitTopup' })).toBe(1);
    h.clock.advance(60_000);
    expect((await buy(y!, 'two')).data.purchaseTopup).toMatchObject({ __typename: 'PurchaseTopupSuccess' });
    expect(h.sandbox.control.orders().map((o) => o.iccid)).toEqual([x, y]);
  });
});

describe('waiting callers', () => {
  it('a client that goes away leaves the queue: its call is never made', async () => {
    h = await startScheduled();
    const ids = h.sandbox.control.iccids().slice(0, 5);
    await h.gql(SIMS_USAGE, { ids }, as('alpha')); // the second's budget is spent
    const controller = new AbortController();
    const gone = Promise.resolve(
      h.gateway.yoga.fetch('http://gateway.test/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...as('beta') },
        body: JSON.stringify({ query: SIM_USAGE, variables: { id: h.sandbox.control.iccids()[9] } }),
        signal: controller.signal,
      }),
    );
    gone.catch(() => {});
    await until(() => h!.gateway.scheduler.waiting === 1);
    controller.abort();
    await until(() => h!.gateway.scheduler.waiting === 0);
    await advance(h, 3_000);
    expect(usageCalls()).toHaveLength(5);
  });

  it('exports queue lengths, waits, refusals per priority and blocks in /metrics', async () => {
    h = await startScheduled();
    const ids = h.sandbox.control.iccids().slice(0, 20);
    const big = watch(h, h.gql(SIMS_USAGE, { ids }, as('alpha')));
    await arrived(h, 41);
    const during = await h.gateway.metrics.registry.metrics();
    expect(during).toMatch(/gateway_upstream_queue_length\{endpoint="usage"\} 5/);
    await driveUntil(h, () => big.value !== undefined);
    h.sandbox.control.addFault({ endpoint: 'balance', rateLimit: { retryAfterSeconds: 5 }, times: 1 });
    await h.gql(BALANCE, {}, as('alpha'));
    const text = await h.gateway.metrics.registry.metrics();
    expect(text).toMatch(/gateway_upstream_queue_length\{endpoint="usage"\} 0/);
    expect(text).toMatch(
      /gateway_upstream_queue_wait_seconds_count\{endpoint="usage",priority="foreground",outcome="admitted"\} 5/,
    );
    expect(text).toMatch(/gateway_upstream_calls_refused_total\{endpoint="usage",priority="foreground"\} 10/);
    expect(text).toMatch(/gateway_upstream_blocks_total\{endpoint="balance",cause="partner"\} 1/);
  });
});

describe('a fleet sharing Redis', () => {
  let server: RedisServer | undefined;
  afterAll(async () => {
    await server?.stop();
  });

  it('admits fleet-wide: three replicas together keep the partner-wide limit (alone, each would spend it again)', async () => {
    server = await startRedisServer();
    const outcome: Record<string, { most: number; calls: number }> = {};
    for (const shared of [true, false]) {
      h = await startScheduled({
        replicas: 3,
        env: { RESPONSE_CACHE: 'false', ...(shared ? { REDIS_URL: server.url, REDIS_KEY_PREFIX: 'sched:' } : {}) },
      });
      const all = h.sandbox.control.iccids();
      const who: Who[] = ['alpha', 'beta', 'gamma'];
      const pending = h.replicas.map((replica, i) =>
        replica.gql(SIMS_USAGE, { ids: all.slice(i * 10, i * 10 + 10) }, as(who[i]!)),
      );
      let answered = 0;
      for (const p of pending) void p.then(() => answered++);
      await arrived(h, 3 * 20 + 1); // details + usage per SIM, and the token (one for the fleet with Redis)
      await driveUntil(h, () => answered === pending.length, 10_000).catch((error: unknown) => {
        const state = h!.replicas.map((r) => ({ ...r.gateway.scheduler.stats, waiting: r.gateway.scheduler.waiting }));
        throw new Error(`${String(error)}: ${answered} answered; ${JSON.stringify(state)}`);
      });
      const results = await Promise.all(pending);
      outcome[shared ? 'redis' : 'alone'] = { most: maxInWindow(usageCalls(), 1_000), calls: usageCalls().length };
      if (shared) {
        expect(results.flatMap((r) => codes(r.errors)).every((code) => code === 'RATE_LIMITED')).toBe(true);
        for (const replica of h.replicas) expect(replica.gateway.scheduler.stats.unattributed).toBe(0);
      }
      await h.close();
      h = undefined;
    }
    expect(outcome.redis!.most).toBe(5);
    expect(outcome.alone!.most).toBeGreaterThan(5);
  });
});
