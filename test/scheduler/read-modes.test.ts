/**
 * Read modes and coalesced callers (README "How the scheduler decides"): a `deferred` read (a field under @defer /
 * @stream) may wait up to `deferredWaitMs` where a foreground one is refused; callers of one coalesced flight each
 * wait within their own bound; the mode reaches the scheduler through the request's data access object.
 */
import SchemaBuilder from '@pothos/core';
import { createYoga } from 'graphql-yoga';
import { afterEach, describe, expect, it } from 'vitest';
import { BudgetExhaustedError, ResourceCache } from '../../src/domain/cache/index.ts';
import { type Demand, UpstreamScheduler } from '../../src/domain/scheduler/index.ts';
import { createContext, type GatewayContext } from '../../src/graphql/context.ts';
import { createManualClock } from '../../src/platform/clock.ts';
import { MemoryBudgetStore } from '../../src/stores/budgets/memory.ts';
import type { Harness } from '../support/harness.ts';
import { until } from '../support/until.ts';
import { AIRALO_LIMITS, as, driveUntil, settle, startScheduled, watch } from './support.ts';

const settleTicks = () => new Promise<void>((resolve) => setImmediate(resolve));

function cacheWithScheduler() {
  const clock = createManualClock();
  const scheduler = new UpstreamScheduler({
    // One usage call per 5 s for the whole partner account.
    limits: { endpoints: { usage: [{ limit: 1, windowMs: 5_000, scope: 'per-partner' }] }, all: [] },
    waits: { foregroundWaitMs: 1_500, deferredWaitMs: 10_000 },
    store: new MemoryBudgetStore(),
    clock,
  });
  const calls: { key: string; at: number }[] = [];
  const cache = new ResourceCache<number>({
    name: 'usage',
    max: 100,
    ttlMs: 1_000,
    maxStaleMs: 60_000,
    clock,
    scheduler,
    endpoint: 'usage',
    load: async (key) => {
      calls.push({ key, at: clock.now() });
      return calls.length;
    },
  });
  return { clock, scheduler, cache, calls };
}

const foreground = (principal: string): Demand => ({ priority: 'foreground', principal });
const deferred = (principal: string): Demand => ({ priority: 'deferred', principal });

async function step(clock: ReturnType<typeof createManualClock>, ms: number) {
  for (let t = 0; t < ms; t += 100) {
    clock.advance(100);
    await settleTicks();
  }
}

describe('read modes on the resource cache', () => {
  it('a deferred read waits for budget up to its longer bound where a foreground read is refused at once', async () => {
    const { clock, cache, calls } = cacheWithScheduler();
    const t0 = clock.now();
    await cache.get('a', foreground('p')); // the partner's one call for the next 5 s
    await expect(cache.get('b', foreground('p'))).rejects.toBeInstanceOf(BudgetExhaustedError);
    const later = cache.get('c', deferred('p'));
    await step(clock, 5_000);
    expect(await later).toMatchObject({ value: 2, stale: false });
    expect(calls.map((c) => [c.key, c.at - t0])).toEqual([
      ['a', 0],
      ['c', 5_000],
    ]);
  });

  it('callers of one coalesced call each wait within their own bound; the call is made once, when admitted', async () => {
    const { clock, cache, calls, scheduler } = cacheWithScheduler();
    const t0 = clock.now();
    await cache.get('x', foreground('p')); // the partner's one call for the next 5 s
    clock.advance(1_100); // x is past its freshness (1 s), within its stale bound
    const times: Record<string, number> = {};
    const timed = (who: 'deferred' | 'foreground', demand: Demand) =>
      cache.get('x', demand).then((read) => {
        times[who] = clock.now();
        return read;
      });
    const late = timed('deferred', deferred('d'));
    const soon = timed('foreground', foreground('f'));
    await settleTicks();
    expect(scheduler.waiting).toBe(1); // one flight, one waiter in the queue
    await step(clock, 4_000);
    // The foreground caller's 1.5 s passed first: it got the stale value; the deferred one waited for the call.
    expect(await soon).toMatchObject({ value: 1, stale: true });
    expect(times.foreground! - t0).toBe(2_600);
    expect(await late).toMatchObject({ value: 2, stale: false });
    expect(times.deferred! - t0).toBe(5_000);
    expect(calls.map((c) => [c.key, c.at - t0])).toEqual([
      ['x', 0],
      ['x', 5_000],
    ]);
  });
});

describe('read modes through the data access object', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('DataAccess.usage(iccid, "deferred") waits for budget as long as deferredWaitMs; the default is foreground', async () => {
    h = await startScheduled({
      limits: {
        endpoints: { ...AIRALO_LIMITS.endpoints, usage: [{ limit: 1, windowMs: 5_000, scope: 'per-partner' }] },
        all: [],
      },
    });
    // A resolver as the @defer / @stream plugin will write it: the mode comes from the field's position.
    const builder = new SchemaBuilder<{ Context: GatewayContext }>({});
    builder.queryType({
      fields: (t) => ({
        remainingMb: t.int({
          nullable: true,
          args: { iccid: t.arg.string({ required: true }), deferred: t.arg.boolean({ required: true }) },
          resolve: async (_root, args, ctx) =>
            (await (args.deferred ? ctx.data.usage(args.iccid, 'deferred') : ctx.data.usage(args.iccid))).value
              .remainingMb,
        }),
      }),
    });
    const services = h.gateway.services;
    const yoga = createYoga({
      schema: builder.toSchema(),
      context: ({ request }) => createContext(services, request),
      maskedErrors: false,
    });
    type Answer = { data?: { remainingMb: number | null }; errors?: { message: string }[] };
    const ask = async (iccid: string, isDeferred: boolean): Promise<Answer> => {
      const response = await yoga.fetch('http://test/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...as('alpha') },
        body: JSON.stringify({
          query: 'query ($i: String!, $d: Boolean!) { remainingMb(iccid: $i, deferred: $d) }',
          variables: { i: iccid, d: isDeferred },
        }),
      });
      return (await response.json()) as Answer;
    };
    const [a, b, c] = h.sandbox.control.iccids({ status: 'ACTIVE', unlimited: false });
    const t0 = h.clock.now();
    expect((await ask(a!, false)).data?.remainingMb).toEqual(expect.any(Number));
    const refused = await ask(b!, false);
    expect(refused.data?.remainingMb).toBeNull();
    expect(refused.errors?.[0]?.message).toMatch(/retry in 5s/);
    const waited = watch(h, ask(c!, true));
    await until(() => h!.gateway.scheduler.waiting === 1);
    await settle(h);
    await driveUntil(h, () => waited.value !== undefined);
    expect(waited.at! - t0).toBe(5_000);
    expect(waited.value!.errors).toBeUndefined();
    expect(waited.value!.data?.remainingMb).toEqual(expect.any(Number));
    expect(h.gateway.scheduler.stats.unattributed).toBe(0);
  });
});
