/**
 * `usageUpdates`: one shared refresh per SIM for every subscriber — 500 subscribers on 50 SIMs cause one upstream
 * usage read per SIM per freshness window (counted at the sandbox, on the injected clock) — pushing only changes,
 * with an immediate push when a webhook invalidates the SIM's usage. Also the per-caller subscription limit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  lowData,
  PARTNER,
  postWebhook,
  type Received,
  type Served,
  serveHarness,
  sseClient,
  subscribe,
  waitFor,
} from './support.ts';

const USAGE_UPDATES = `subscription Usage($iccids: [ID!]!) {
  usageUpdates(iccids: $iccids) { iccid usage { remainingMb fetchedAt stale } }
}`;
const TTL_SECONDS = 300;

describe('usageUpdates', () => {
  let s: Served;
  let iccids: string[];
  const streams: Received<any>[] = [];
  const usageCalls = () => s.h.sandbox.control.countCalls({ endpoint: 'usage' });
  const realWait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  beforeAll(async () => {
    s = await serveHarness({
      env: { AUTH_API_KEYS: `backend:${PARTNER['x-api-key']}`, SUBSCRIPTIONS_MAX_PER_PRINCIPAL: '1000' },
    });
    iccids = s.h.sandbox.control.iccids();
    expect(iccids).toHaveLength(50);
  });
  afterAll(() => s.close());

  it('500 subscribers on 50 SIMs: one upstream read per SIM per freshness window, only changes pushed', async () => {
    // In-process SSE (yoga.fetch as the client's fetch): 500 streams without 500 sockets.
    const client = sseClient('http://gateway.test/graphql', PARTNER, ((input: RequestInfo | URL, init?: RequestInit) =>
      (s.h.gateway.yoga.fetch as (url: string, init?: RequestInit) => Promise<Response>)(
        String(input),
        init,
      )) as typeof fetch);
    for (let i = 0; i < 500; i++) streams.push(subscribe(client, USAGE_UPDATES, { iccids: [iccids[i % 50]!] }));
    await waitFor(() => streams.every((r) => r.values.length === 1 || r.errors.length > 0), 20_000);
    expect(streams.flatMap((r) => r.errors)).toEqual([]);
    expect(s.h.gateway.alerts.usage.size).toBe(50);
    expect(usageCalls()).toBe(50);

    // Within the freshness window: no read, whatever the number of subscribers.
    s.h.clock.advance((TTL_SECONDS - 1) * 1000);
    await realWait(1_500); // the watch looks for due SIMs every second
    expect(usageCalls()).toBe(50);

    // Past it: one read per SIM; the upstream's value did not change, so nothing is pushed.
    s.h.clock.advance(2_000);
    await waitFor(() => usageCalls() === 100, 5_000);
    await realWait(1_200);
    expect(usageCalls()).toBe(100);
    expect(streams.every((r) => r.values.length === 1)).toBe(true);
  }, 60_000);

  it('a webhook alert invalidating a SIM pushes its new usage at once to its subscribers only', async () => {
    const iccid = iccids.find((i) => {
      const v = streams.find((r) => r.values[0]!.data.usageUpdates.iccid === i)!.values[0]!.data.usageUpdates;
      return v.usage.remainingMb > 100;
    })!;
    const mine = streams.filter((r) => r.values[0]!.data.usageUpdates.iccid === iccid);
    const before = mine[0]!.values[0]!.data.usageUpdates.usage.remainingMb as number;
    s.h.sandbox.control.consumeData(iccid, 100); // the upstream measures it; nothing tells the gateway yet
    const calls = usageCalls();
    const started = performance.now();
    expect((await postWebhook(s.origins[0]!, lowData(iccid, '90%', 9))).status).toBe(200);
    await Promise.all(mine.map((r) => r.next(2, 2_000)));
    expect(performance.now() - started).toBeLessThan(500);
    for (const r of mine) expect(r.values[1]!.data.usageUpdates.usage.remainingMb).toBe(before - 100);
    expect(usageCalls()).toBe(calls + 1); // one read for the ten subscribers
    expect(streams.filter((r) => r.values.length > 1)).toHaveLength(mine.length);
    // Ending the streams (here: shutdown) stops watching their SIMs. (A client going away does the same over a
    // socket — see the limit test; yoga.fetch without a socket does not propagate the client's abort.)
    s.h.gateway.alerts.subscriptions.close();
    await waitFor(() => streams.every((r) => r.completed));
    expect(s.h.gateway.alerts.usage.size).toBe(0);
  }, 30_000);

  it('refuses a subscription past SUBSCRIPTIONS_MAX_PER_PRINCIPAL with TOO_MANY_SUBSCRIPTIONS', async () => {
    const limited = await serveHarness({
      env: { AUTH_API_KEYS: `backend:${PARTNER['x-api-key']}`, SUBSCRIPTIONS_MAX_PER_PRINCIPAL: '2' },
    });
    try {
      const client = sseClient(`${limited.origins[0]}/graphql`);
      const open = [0, 1].map(() => subscribe(client, 'subscription { simAlerts { iccid } }'));
      await waitFor(() => limited.h.gateway.alerts.subscriptions.size === 2);
      const third = subscribe(client, 'subscription { simAlerts { iccid } }');
      await waitFor(() => third.errors.length > 0);
      const error = third.errors[0] as any;
      expect((Array.isArray(error) ? error[0] : error).extensions).toMatchObject({
        code: 'TOO_MANY_SUBSCRIPTIONS',
        limit: 2,
        scope: 'principal',
      });
      for (const r of open) r.dispose();
      await waitFor(() => limited.h.gateway.alerts.subscriptions.size === 0);
      const again = subscribe(client, 'subscription { simAlerts { iccid } }');
      await waitFor(() => limited.h.gateway.alerts.subscriptions.size === 1);
      expect(again.errors).toEqual([]);
      again.dispose();
      client.dispose();
    } finally {
      await limited.close();
    }
  });
});
