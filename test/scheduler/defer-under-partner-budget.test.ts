/**
 * The whole chain under Airalo's partner-wide usage limit (5 reads per second for the account; the sandbox enforces
 * it, the gateway's scheduler paces to it): a cold 25-SIM page whose usage is under `@defer` gets the page at once and
 * every SIM's usage as the budget allows, within UPSTREAM_DEFER_WAIT_MS, with zero 429s from the upstream; the same
 * page without `@defer` is answered within UPSTREAM_QUEUE_WAIT_MS, the SIMs the budget could not serve by then null
 * with RATE_LIMITED and a retryAfterSeconds after which a retry is answered. Time is the harness's manual clock.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/platform/config.ts';
import { type Harness, startHarness } from '../support/harness.ts';
import { type Payload, readParts } from '../support/incremental.ts';

const DEFERRED = `query DeferredPage($first: Int!) {
  simList(first: $first) { nodes { iccid ... @defer(label: "usage") { usage { status remainingMb } } } }
}`;
const PLAIN = `query PlainPage($first: Int!) { simList(first: $first) { nodes { iccid usage { status remainingMb } } } }`;

/** What the harness's gateway runs with (the airalo flavour's defaults). */
const CONFIG = loadConfig({ UPSTREAM_FLAVOR: 'airalo' });
/** The shipped arrival margin (the harness turns it off by default). */
const ENV = { UPSTREAM_LIMIT_MARGIN_MS: String(CONFIG.scheduler.marginMs) };

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

function post(harness: Harness, query: string, accept: string): Promise<Response> {
  const body = JSON.stringify({ query, variables: { first: 25 } });
  return harness.fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept, 'content-length': String(Buffer.byteLength(body)) },
    body,
  });
}

/**
 * Advances the manual clock in 25 ms steps (with a real pause for the gateway to act) until `done` settles: small steps
 * keep the clock time between the gateway admitting a call and the sandbox counting it within UPSTREAM_LIMIT_MARGIN_MS,
 * as a real network does.
 */
async function driveClock<T>(harness: Harness, done: Promise<T>): Promise<T> {
  let settled = false;
  const result = done.finally(() => {
    settled = true;
  });
  while (!settled) {
    await new Promise((resolve) => setTimeout(resolve, 5));
    if (!settled) harness.clock.advance(25);
  }
  return result;
}

describe('a cold 25-SIM page under the airalo partner budget (5 usage reads/s)', () => {
  it('with usage under @defer: the page first, then every usage within the deferred bound, zero upstream 429s', async () => {
    h = await startHarness({ flavour: 'airalo', env: ENV });
    const harness = h;
    expect(CONFIG.upstreamLimits.endpoints.usage).toContainEqual({
      limit: 5,
      windowMs: 1_000,
      scope: 'per-partner',
    });
    const start = harness.clock.now();
    const arrivals: { at: number; payload: Payload }[] = [];
    const response = await post(harness, DEFERRED, 'multipart/mixed, application/json');
    expect(response.status).toBe(200);
    await driveClock(
      harness,
      (async () => {
        for await (const payload of readParts(response)) arrivals.push({ at: harness.clock.now() - start, payload });
      })(),
    );

    const [first, ...rest] = arrivals;
    expect(first!.at).toBeLessThan(200); // the page does not wait for any usage budget
    expect(first!.payload.data!.simList.nodes).toHaveLength(25);
    const entries = rest.flatMap((a) => (a.payload.incremental ?? []).map((entry) => ({ at: a.at, entry })));
    expect(entries).toHaveLength(25);
    for (const { entry } of entries) {
      expect(entry.errors).toBeUndefined();
      expect(entry.data!.usage.status).toEqual(expect.any(String));
    }
    // Delivered as the budget allows: in several parts spread over ≥ 4 s (25 reads at 5/s), not all at the end.
    expect(rest.length).toBeGreaterThanOrEqual(5);
    const last = Math.max(...entries.map((e) => e.at));
    expect(last).toBeGreaterThanOrEqual(4_000);
    expect(last).toBeLessThanOrEqual(CONFIG.scheduler.deferredWaitMs);
    expect(harness.sandbox.control.countCalls({ endpoint: 'usage' })).toBe(25);
    expect(harness.sandbox.control.countCalls({ status: 429 })).toBe(0);
  });

  it('without @defer: answered within the foreground bound; the rest RATE_LIMITED with a retryAfterSeconds that holds', async () => {
    h = await startHarness({ flavour: 'airalo', env: ENV });
    const harness = h;
    const start = harness.clock.now();
    const answer = await driveClock(
      harness,
      post(harness, PLAIN, 'application/json').then(async (r) => ({
        at: harness.clock.now() - start,
        body: (await r.json()) as any,
      })),
    );
    expect(answer.at).toBeLessThanOrEqual(CONFIG.scheduler.foregroundWaitMs + 100);
    const nodes = answer.body.data.simList.nodes as { iccid: string; usage: unknown }[];
    const served = nodes.filter((n) => n.usage !== null);
    const refused = answer.body.errors as { path: (string | number)[]; extensions: Record<string, any> }[];
    // 5 reads in the first second and 5 more in the next half-second at most; the rest refused, not queued forever.
    expect(served.length).toBeGreaterThanOrEqual(5);
    expect(served.length).toBeLessThanOrEqual(10);
    expect(refused).toHaveLength(25 - served.length);
    for (const error of refused) {
      expect(error.extensions.code).toBe('RATE_LIMITED');
      expect(error.extensions.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    }
    expect(harness.sandbox.control.countCalls({ status: 429 })).toBe(0);

    // The SIM refused with the longest wait: a retry at its retryAfterSeconds is answered.
    const worst = refused.reduce((a, b) => (b.extensions.retryAfterSeconds > a.extensions.retryAfterSeconds ? b : a));
    const iccid = nodes[worst.path[2] as number]!.iccid;
    harness.clock.advance(worst.extensions.retryAfterSeconds * 1000 - answer.at);
    const retry = await driveClock(harness, harness.gql(`{ sim(iccid: "${iccid}") { usage { status } } }`));
    expect(retry.errors).toBeUndefined();
    expect(retry.data.sim.usage.status).toEqual(expect.any(String));
    expect(harness.sandbox.control.countCalls({ status: 429 })).toBe(0);
  });
});
