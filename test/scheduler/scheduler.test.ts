/**
 * The upstream scheduler on the in-process budget store and the injected clock (README "How the scheduler decides"):
 * several limits decided together, the queue's order (foreground before deferred, round-robin across principals,
 * FIFO within one), bounded waiting and the estimates refusals carry, spare-only background calls, aborts, upgrades,
 * and what a 429 blocks.
 */
import { describe, expect, it } from 'vitest';
import { BudgetExhaustedError } from '../../src/domain/errors.ts';
import {
  type Decision,
  type Demand,
  GRANTED,
  type Priority,
  slotTime,
  Ticket,
  UpstreamScheduler,
  withDemand,
} from '../../src/domain/scheduler/index.ts';
import { createManualClock, type ManualClock } from '../../src/platform/clock.ts';
import type { RateLimit, SchedulerConfig, UpstreamLimits } from '../../src/platform/upstream-limits.ts';
import { MemoryBudgetStore } from '../../src/stores/budgets/memory.ts';
import { UpstreamRateLimitedError } from '../../src/upstream/index.ts';

const perIccid = (limit: number, windowMs: number): RateLimit => ({ limit, windowMs, scope: 'per-iccid' });
const perPartner = (limit: number, windowMs: number): RateLimit => ({ limit, windowMs, scope: 'per-partner' });

function setup(
  limits: Partial<UpstreamLimits>,
  waits: SchedulerConfig = { foregroundWaitMs: 1_500, deferredWaitMs: 10_000 },
) {
  const clock = createManualClock();
  const store = new MemoryBudgetStore();
  const scheduler = new UpstreamScheduler({
    limits: { endpoints: limits.endpoints ?? {}, all: limits.all ?? [] },
    waits,
    store,
    clock,
  });
  return { clock, store, scheduler };
}

const demand = (principal: string, priority: Priority = 'foreground'): Demand => ({ priority, principal });

/** Lets promise callbacks run (the clock's timers fire synchronously; what they resolve settles a tick later). */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * One caller's admission, observed: `admittedAt` (clock time) once admitted, `refused` once refused. A queued
 * decision is joined like every caller does.
 */
function track(clock: ManualClock, decision: Decision, who: Demand, signal?: AbortSignal) {
  const outcome: { admittedAt?: number; refused?: BudgetExhaustedError; error?: unknown } = {};
  if (decision === GRANTED) outcome.admittedAt = clock.now();
  else if (decision instanceof BudgetExhaustedError) outcome.refused = decision;
  else
    decision.join(who, signal).then(
      () => {
        outcome.admittedAt = clock.now();
      },
      (error: unknown) => {
        if (error instanceof BudgetExhaustedError) outcome.refused = error;
        else outcome.error = error;
      },
    );
  return outcome;
}

/** Advances the clock in `stepMs` steps for `totalMs`, letting admissions settle after each step. */
async function run(clock: ManualClock, totalMs: number, stepMs = 100): Promise<void> {
  for (let t = 0; t < totalMs; t += stepMs) {
    clock.advance(stepMs);
    await settle();
  }
}

describe('one decision over every limit of an endpoint', () => {
  it('a call the partner-wide budget refuses spends nothing of its ICCID’s budget', async () => {
    const { clock, scheduler } = setup(
      { endpoints: { usage: [perIccid(2, 60_000), perPartner(1, 1_000)] } },
      { foregroundWaitMs: 0, deferredWaitMs: 0 },
    );
    const a = demand('a');
    expect(scheduler.request('usage', 'iccid-1', a)).toBe(GRANTED);
    // Partner budget spent: refused at once (no wait allowed), nothing recorded for iccid-1.
    for (let i = 0; i < 5; i++) expect(scheduler.request('usage', 'iccid-1', a)).toBeInstanceOf(BudgetExhaustedError);
    clock.advance(1_000);
    expect(scheduler.request('usage', 'iccid-1', a)).toBe(GRANTED); // its 2nd call in the minute: still allowed
    clock.advance(1_000);
    const refused = scheduler.request('usage', 'iccid-1', a) as BudgetExhaustedError;
    expect(refused).toBeInstanceOf(BudgetExhaustedError);
    expect(refused.retryAfterSeconds).toBe(58); // the ICCID's own window: 60 s after its first call
    expect(scheduler.request('usage', 'iccid-2', a)).toBe(GRANTED); // the partner budget had room
  });

  it('applies the limits on every endpoint together (`all`) across endpoints', () => {
    const { scheduler } = setup({ all: [perPartner(3, 60_000)] }, { foregroundWaitMs: 0, deferredWaitMs: 0 });
    const a = demand('a');
    expect(scheduler.request('token', undefined, a)).toBe(GRANTED);
    expect(scheduler.request('balance', undefined, a)).toBe(GRANTED);
    expect(scheduler.request('orders', undefined, a)).toBe(GRANTED);
    const refused = scheduler.request('submitTopup', '8900000000000000001', a);
    expect(refused).toBeInstanceOf(BudgetExhaustedError);
    expect((refused as BudgetExhaustedError).retryAfterSeconds).toBe(60);
  });

  it('decides a granted call synchronously with the in-process store', () => {
    const { scheduler } = setup({ endpoints: { usage: [perIccid(10, 60_000), perPartner(5, 1_000)] } });
    const decision = scheduler.request('usage', '8900000000000000001', demand('a'));
    expect(decision).toBe(GRANTED); // a plain value, not a promise: the call starts in the same tick
  });
});

describe('the arrival margin (UPSTREAM_LIMIT_MARGIN_MS)', () => {
  it('counts each call a margin longer than its window: the 6th call of 5/1s waits 1,100 ms with 100 ms', async () => {
    for (const [marginMs, expected] of [
      [0, 1_000],
      [100, 1_100],
    ] as const) {
      const { clock, scheduler } = setup(
        { endpoints: { usage: [perPartner(5, 1_000)] } },
        { foregroundWaitMs: 1_500, deferredWaitMs: 10_000, marginMs },
      );
      const start = clock.now();
      for (let i = 0; i < 5; i++)
        expect(scheduler.request('usage', `89000000000000000${i}0`, demand('a'))).toBe(GRANTED);
      const sixth = track(clock, scheduler.request('usage', '8900000000000000099', demand('a')), demand('a'));
      await run(clock, 1_200, 50);
      expect(sixth.admittedAt! - start).toBe(expected);
    }
  });
});

describe('the queue', () => {
  it('admits waiters as the budget frees: round-robin across principals, FIFO within one', async () => {
    const { clock, scheduler } = setup(
      { endpoints: { usage: [perPartner(1, 1_000)] } },
      { foregroundWaitMs: 10_000, deferredWaitMs: 10_000 },
    );
    const calls: [string, number][] = [];
    const arrivals = [
      ['a', 1],
      ['a', 2],
      ['a', 3],
      ['b', 1],
      ['b', 2],
      ['c', 1],
    ] as const;
    const outcomes = arrivals.map(([principal, n]) => {
      const who = demand(principal);
      const outcome = track(clock, scheduler.request('usage', `${principal}${n}`, who), who);
      return { name: `${principal}${n}`, outcome };
    });
    await run(clock, 6_000);
    for (const { name, outcome } of outcomes) calls.push([name, outcome.admittedAt! - Date.parse('2026-01-01')]);
    // a1 at once; then one per second in rotation a, b, c, a, b.
    expect(calls.sort((x, y) => x[1] - y[1])).toEqual([
      ['a1', 0],
      ['a2', 1_000],
      ['b1', 2_000],
      ['c1', 3_000],
      ['a3', 4_000],
      ['b2', 5_000],
    ]);
    expect(scheduler.waiting).toBe(0);
  });

  it('serves every foreground waiter before any deferred one, and a foreground caller joining a deferred waiter moves it up', async () => {
    const { clock, scheduler } = setup(
      { endpoints: { usage: [perPartner(1, 1_000)] } },
      { foregroundWaitMs: 5_000, deferredWaitMs: 10_000 },
    );
    const first = scheduler.request('usage', '1', demand('a'));
    expect(first).toBe(GRANTED);
    const deferred1 = track(clock, scheduler.request('usage', 'd1', demand('a', 'deferred')), demand('a', 'deferred'));
    const deferred2Ticket = scheduler.request('usage', 'd2', demand('b', 'deferred')) as Ticket;
    const deferred2 = track(clock, deferred2Ticket, demand('b', 'deferred'));
    const foreground = track(clock, scheduler.request('usage', 'f1', demand('c')), demand('c'));
    // A client waits for d2 in the foreground now (a coalesced read): d2 moves into the foreground class.
    track(clock, deferred2Ticket, demand('d'));
    expect(scheduler.queueLengths()).toEqual({ usage: 3 });
    await run(clock, 3_000);
    const t0 = Date.parse('2026-01-01');
    expect(foreground.admittedAt! - t0).toBe(1_000);
    expect(deferred2.admittedAt! - t0).toBe(2_000);
    expect(deferred1.admittedAt! - t0).toBe(3_000);
  });

  it('refuses at once when the estimate is beyond the caller’s bound; each refusal’s retryAfterSeconds is when a retry is admitted', async () => {
    const { clock, scheduler } = setup({ endpoints: { usage: [perPartner(5, 1_000)] } });
    const a = demand('a');
    const t0 = clock.now();
    const outcomes = Array.from({ length: 20 }, (_, i) => track(clock, scheduler.request('usage', `s${i}`, a), a));
    // 5 now, 5 queued for the slots freeing at 1 s (within 1.5 s), 10 refused at once with their turn.
    expect(outcomes.filter((o) => o.admittedAt === t0)).toHaveLength(5);
    expect(scheduler.waiting).toBe(5);
    const refused = outcomes.filter((o) => o.refused);
    expect(refused.map((o) => o.refused!.retryAfterSeconds)).toEqual([2, 2, 2, 2, 2, 3, 3, 3, 3, 3]);
    await run(clock, 1_000);
    expect(outcomes.filter((o) => o.admittedAt === t0 + 1_000)).toHaveLength(5);
    // Each refused caller retries when told: admitted at once, every slot used (none idle, none over the limit).
    const retries = refused.map((o, i) => ({ at: t0 + o.refused!.retryAfterSeconds * 1000, iccid: `s${10 + i}` }));
    const admitted: number[] = [];
    for (let t = t0 + 1_000; t <= t0 + 4_000; t += 100) {
      clock.set(t);
      for (const retry of retries.filter((r) => r.at === t)) {
        const outcome = track(clock, scheduler.request('usage', retry.iccid, a), a);
        await settle();
        expect(outcome.refused).toBeUndefined();
        admitted.push(outcome.admittedAt! - t0);
      }
    }
    expect(admitted).toEqual([2_000, 2_000, 2_000, 2_000, 2_000, 3_000, 3_000, 3_000, 3_000, 3_000]);
  });

  it('refuses a waiter whose bound passes before its turn, with the estimate of its turn then, which holds', async () => {
    const { clock, scheduler } = setup(
      { endpoints: { usage: [perPartner(1, 1_000)] } },
      { foregroundWaitMs: 5_000, deferredWaitMs: 3_000 },
    );
    const t0 = clock.now();
    expect(scheduler.request('usage', '0', demand('a'))).toBe(GRANTED);
    const d = demand('d', 'deferred');
    const deferred = track(clock, scheduler.request('usage', 'd', d), d); // its turn: 1 s
    // Four clients arrive, each waiting in the foreground: all go before the deferred call.
    const foreground = [1, 2, 3, 4].map((i) => {
      const who = demand(`f${i}`);
      return track(clock, scheduler.request('usage', `f${i}`, who), who);
    });
    await run(clock, 3_000);
    expect(foreground.map((f) => (f.admittedAt === undefined ? 'waiting' : f.admittedAt - t0))).toEqual([
      1_000,
      2_000,
      3_000,
      'waiting',
    ]);
    // Its 3 s have passed: refused, told its turn — after f4's slot at 4 s, the one at 5 s.
    expect(deferred.refused?.retryAfterSeconds).toBe(2);
    await run(clock, 2_000);
    expect(foreground[3]!.admittedAt! - t0).toBe(4_000);
    const retry = track(clock, scheduler.request('usage', 'd', d), d);
    expect(retry.admittedAt! - t0).toBe(5_000);
  });

  it('an aborted caller leaves the queue; nothing is admitted for it later', async () => {
    const { clock, scheduler } = setup({ endpoints: { usage: [perPartner(1, 1_000)] } });
    expect(scheduler.request('usage', '0', demand('a'))).toBe(GRANTED);
    const controller = new AbortController();
    const gone = track(clock, scheduler.request('usage', '1', demand('a')), demand('a'), controller.signal);
    expect(scheduler.waiting).toBe(1);
    controller.abort(new Error('client gone'));
    await settle();
    expect(gone.error).toEqual(new Error('client gone'));
    expect(scheduler.waiting).toBe(0);
    const admittedBefore = scheduler.stats.admitted;
    await run(clock, 2_000);
    expect(scheduler.stats.admitted).toBe(admittedBefore);
    expect(scheduler.request('usage', '2', demand('a'))).toBe(GRANTED); // the slot it would have taken is free
  });
});

describe('background calls take only spare budget', () => {
  it('never the last half of a partner-wide window, and nothing while a client waits or a promised retry is due', async () => {
    const { clock, scheduler } = setup({ endpoints: { usage: [perIccid(100, 60_000), perPartner(4, 1_000)] } });
    const bg = demand('a', 'background');
    expect(scheduler.request('usage', '1', bg)).toBe(GRANTED);
    expect(scheduler.request('usage', '2', bg)).toBe(GRANTED);
    expect(scheduler.request('usage', '3', bg)).toBeInstanceOf(BudgetExhaustedError); // 2 of 4 left: kept
    // A foreground burst of ⌈4 / 2⌉ finds its slots.
    expect(scheduler.request('usage', '4', demand('a'))).toBe(GRANTED);
    expect(scheduler.request('usage', '5', demand('b'))).toBe(GRANTED);
    // A client waits → no background call, even once the window has room again.
    const waiting = track(clock, scheduler.request('usage', '6', demand('c')), demand('c'));
    expect(scheduler.request('usage', '7', bg)).toBeInstanceOf(BudgetExhaustedError);
    await run(clock, 1_000);
    expect(waiting.admittedAt).toBeDefined();
    // 8 clients at 1 s: 3 now, 4 queued for 2 s, 1 refused and told to retry at 3 s (its slot).
    const r = demand('r');
    const clients = Array.from({ length: 8 }, (_, i) => track(clock, scheduler.request('usage', `r${i}`, r), r));
    expect(clients.filter((c) => c.refused).map((c) => c.refused!.retryAfterSeconds)).toEqual([2]);
    await run(clock, 2_000);
    // 3 s: the window is empty again, but the promised retry is due: background leaves its slot alone…
    expect(scheduler.waiting).toBe(0);
    expect(scheduler.request('usage', '8', bg)).toBeInstanceOf(BudgetExhaustedError);
    await run(clock, 1_000); // …until the promise has lapsed (its time + 1 s)
    expect(scheduler.request('usage', '9', bg)).toBe(GRANTED);
  });

  it('never queues: a background caller joining a queued call is refused at once', async () => {
    const { clock, scheduler } = setup({ endpoints: { usage: [perPartner(1, 1_000)] } });
    expect(scheduler.request('usage', '0', demand('a'))).toBe(GRANTED);
    const ticket = scheduler.request('usage', '1', demand('a'));
    expect(ticket).toBeInstanceOf(Ticket);
    track(clock, ticket, demand('a'));
    await expect((ticket as Ticket).join(demand('x', 'background'))).rejects.toBeInstanceOf(BudgetExhaustedError);
  });

  it('decides GET retries after a 5xx as background: spare budget or no retry', () => {
    const { scheduler } = setup({ endpoints: { usage: [perPartner(2, 1_000)] } });
    expect(scheduler.admitRetry({ endpoint: 'usage', iccid: '1' })).toBe(true);
    expect(scheduler.admitRetry({ endpoint: 'usage', iccid: '2' })).toBe(false);
    expect(scheduler.request('usage', '3', demand('a'))).toBe(GRANTED);
  });
});

describe('the transport seam', () => {
  it('consumes nothing twice for a cache call it admitted; decides other attempts for the demand in context', async () => {
    const { scheduler } = setup(
      { endpoints: { token: [perPartner(1, 60_000)] } },
      {
        foregroundWaitMs: 0,
        deferredWaitMs: 0,
      },
    );
    await withDemand(demand('a'), async () => {
      expect(scheduler.admit({ endpoint: 'token', iccid: undefined }, undefined)).toBeUndefined();
      expect(() => scheduler.admit({ endpoint: 'token', iccid: undefined }, undefined)).toThrow(BudgetExhaustedError);
    });
    expect(scheduler.stats.unattributed).toBe(0);
    scheduler.admit({ endpoint: 'balance', iccid: undefined }, undefined);
    expect(scheduler.stats.unattributed).toBe(1);
  });
});

describe('what an upstream 429 blocks', () => {
  const USAGE: UpstreamLimits['endpoints'] = { usage: [perIccid(10, 60_000), perPartner(5, 1_000)] };
  const limited = (seconds: number, limit: number | null = null) =>
    new UpstreamRateLimitedError('usage', 429, seconds, limit);

  it('X-RateLimit-Limit equal to the ICCID’s limit: only that ICCID, for the whole Retry-After', async () => {
    const { clock, scheduler } = setup({ endpoints: USAGE });
    await scheduler.rateLimited({ endpoint: 'usage', iccid: '1' }, limited(30, 10));
    expect(scheduler.request('usage', '2', demand('a'))).toBe(GRANTED);
    const refused = scheduler.request('usage', '1', demand('a')) as BudgetExhaustedError;
    expect(refused.retryAfterSeconds).toBe(30);
    clock.advance(30_000);
    expect(scheduler.request('usage', '1', demand('a'))).toBe(GRANTED);
  });

  it('on an ICCID whose own budget had room, or equal to the partner limit, or without an ICCID: the whole endpoint', async () => {
    for (const [iccid, limit] of [
      ['1', null],
      ['1', 5],
      [undefined, null],
    ] as const) {
      const { clock, scheduler } = setup({ endpoints: USAGE });
      expect(scheduler.request('usage', '1', demand('a'))).toBe(GRANTED);
      await scheduler.rateLimited({ endpoint: 'usage', iccid }, limited(20, limit));
      for (const other of ['1', '2', '3'])
        expect((scheduler.request('usage', other, demand('a')) as BudgetExhaustedError).retryAfterSeconds).toBe(20);
      expect(scheduler.request('topups', '2', demand('a'))).toBe(GRANTED); // other endpoints are not blocked
      clock.advance(20_000);
      expect(scheduler.request('usage', '2', demand('a'))).toBe(GRANTED);
    }
  });

  it('on an ICCID whose own window is full: that ICCID only', async () => {
    const { scheduler } = setup({ endpoints: { usage: [perIccid(1, 60_000)] } });
    expect(scheduler.request('usage', '1', demand('a'))).toBe(GRANTED);
    await scheduler.rateLimited({ endpoint: 'usage', iccid: '1' }, limited(120));
    expect(scheduler.request('usage', '2', demand('a'))).toBe(GRANTED);
    expect((scheduler.request('usage', '1', demand('a')) as BudgetExhaustedError).retryAfterSeconds).toBe(120);
  });

  it('X-RateLimit-Limit equal to a limit on all endpoints: every endpoint', async () => {
    const { scheduler } = setup({ endpoints: USAGE, all: [perPartner(50, 60_000)] });
    await scheduler.rateLimited({ endpoint: 'usage', iccid: '1' }, limited(45, 50));
    for (const endpoint of ['token', 'balance', 'usage', 'topups'] as const)
      expect((scheduler.request(endpoint, '2', demand('a')) as BudgetExhaustedError).retryAfterSeconds).toBe(45);
    expect(scheduler.stats.blocks).toBe(1);
  });
});

describe('slotTime: when the call at a given place in line is admitted by a sliding window', () => {
  it('fills the free slots now, then each slot as the call `limit` places before it leaves the window', () => {
    // 5 per second, calls at 0, 200, 400 (2 free).
    const calls = [0, 200, 400];
    expect([0, 1, 2, 3, 4, 5, 6, 7, 8].map((p) => slotTime(calls, 5, 1_000, 500, p))).toEqual([
      500, 500, 1_000, 1_200, 1_400, 1_500, 1_500, 2_000, 2_200,
    ]);
    expect(slotTime([], 1, 900_000, 0, 2)).toBe(1_800_000);
    expect(slotTime([0], Number.POSITIVE_INFINITY, 1, 5, 10)).toBe(5);
  });
});
