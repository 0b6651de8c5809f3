/** How upstream limits and failures surface: one failing leaf, typed codes, stale values, no extra calls. */
import { afterEach, describe, expect, it } from 'vitest';
import { graphql } from '../__generated__/gql.ts';
import { MyEsimsDocument } from '../__generated__/graphql.ts';
import { type Harness, startHarness } from '../support/harness.ts';

const SimResources = graphql(`
  query SimResources($iccid: ID!) {
    sim(iccid: $iccid) {
      iccid
      usage { status remainingMb stale fetchedAt }
      topupPackages { id }
      packageHistoryInfo { stale fetchedAt entries { id } }
    }
  }
`);

let h: Harness;
afterEach(async () => h?.close());

describe('upstream limits and failures', () => {
  it('the README example with the upstream down: data with balance and simList null, and both errors reported', async () => {
    h = await startHarness();
    h.sandbox.control.addFault({ errorStatus: 503 }); // every endpoint, the token's included
    const result = await h.gql(MyEsimsDocument);
    expect(result.data).toEqual({ balance: null, simList: null });
    expect(result.errors!.map((e) => [e.path!.join('.'), e.extensions!.code]).sort()).toEqual([
      ['balance', 'UPSTREAM_UNAVAILABLE'],
      ['simList', 'UPSTREAM_UNAVAILABLE'],
    ]);
  });

  it('one failing top-level field leaves the others intact', async () => {
    h = await startHarness();
    h.sandbox.control.addFault({ endpoint: 'balance', errorStatus: 503 });
    const result = await h.gql(MyEsimsDocument);
    expect(result.data!.balance).toBeNull();
    expect(result.data!.simList!.nodes).toHaveLength(5);
    expect(result.errors!.filter((e) => e.path!.length === 1)).toEqual([
      expect.objectContaining({ path: ['balance'] }),
    ]);
  });

  it('turns a 429 into RATE_LIMITED with retryAfterSeconds on that field only, and makes no call until Retry-After has passed', async () => {
    h = await startHarness();
    const iccid = h.sandbox.control.iccids({ status: 'ACTIVE', hasTopups: true })[0]!;
    h.sandbox.control.addFault({ endpoint: 'usage', iccid, rateLimit: { retryAfterSeconds: 120 }, times: 1 });
    const limited = await h.gql(SimResources, { iccid });
    expect(limited.data!.sim!.usage).toBeNull();
    expect(limited.data!.sim!.topupPackages!.length).toBeGreaterThan(0);
    const error = limited.errors!.find((e) => e.path?.join('.') === 'sim.usage')!;
    expect(error.extensions).toMatchObject({ code: 'RATE_LIMITED', retryAfterSeconds: 120 });

    // 2 s before the block ends (more than a foreground read may wait for it: README "How the scheduler decides").
    h.clock.advance(118_000);
    const stillLimited = await h.gql(SimResources, { iccid });
    expect(stillLimited.errors!.find((e) => e.path?.join('.') === 'sim.usage')!.extensions).toMatchObject({
      code: 'RATE_LIMITED',
      retryAfterSeconds: 2,
    });
    expect(h.sandbox.control.countCalls({ endpoint: 'usage', iccid })).toBe(1);

    h.clock.advance(2_000);
    const recovered = await h.gql(SimResources, { iccid });
    expect(recovered.data!.sim!.usage!.status).toBe('ACTIVE');
    expect(h.sandbox.control.countCalls({ endpoint: 'usage', iccid })).toBe(2);
  });

  it('understands Retry-After as an HTTP-date', async () => {
    h = await startHarness();
    const iccid = h.sandbox.control.iccids({ status: 'ACTIVE' })[0]!;
    h.sandbox.control.addFault({
      endpoint: 'usage',
      iccid,
      rateLimit: { retryAfterSeconds: 600, asHttpDate: true },
      times: 1,
    });
    const limited = await h.gql(SimResources, { iccid });
    const retry = limited.errors!.find((e) => e.path?.join('.') === 'sim.usage')!.extensions!.retryAfterSeconds;
    expect(retry).toBeGreaterThanOrEqual(599);
    expect(retry).toBeLessThanOrEqual(601);
  });

  it('serves the cached value marked stale while the upstream is rate-limiting', async () => {
    h = await startHarness({ env: { CACHE_USAGE_TTL_SECONDS: '60' } });
    const iccid = h.sandbox.control.iccids({ status: 'ACTIVE' })[0]!;
    const fresh = await h.gql(SimResources, { iccid });
    expect(fresh.data!.sim!.usage!.stale).toBe(false);
    h.clock.advance(61_000);
    h.sandbox.control.addFault({ endpoint: 'usage', iccid, rateLimit: { retryAfterSeconds: 300 } });
    const stale = await h.gql(SimResources, { iccid });
    expect(stale.data!.sim!.usage).toMatchObject({ stale: true, fetchedAt: fresh.data!.sim!.usage!.fetchedAt });
    expect(stale.errors?.filter((e) => e.path?.includes('usage')) ?? []).toHaveLength(0);
  });

  it('reads package history at most once per 15 minutes per SIM, serving it meanwhile', async () => {
    h = await startHarness({ env: { CACHE_HISTORY_TTL_SECONDS: '60' } });
    const iccid = h.sandbox.control.iccids({ status: 'ACTIVE' })[0]!;
    for (let minute = 0; minute < 15; minute++) {
      const result = await h.gql(SimResources, { iccid });
      expect(result.data!.sim!.packageHistoryInfo!.entries.length).toBeGreaterThan(0);
      h.clock.advance(59_000);
    }
    expect(h.sandbox.control.countCalls({ endpoint: 'packages', iccid })).toBe(1);
    expect(h.sandbox.control.countCalls({ endpoint: 'packages', status: 429 })).toBe(0);
    h.clock.advance(60_000);
    await h.gql(SimResources, { iccid });
    expect(h.sandbox.control.countCalls({ endpoint: 'packages', iccid })).toBe(2);
  });

  it('turns 5xx into UPSTREAM_UNAVAILABLE on the failing field and keeps the rest of the SIM', async () => {
    h = await startHarness();
    const iccid = h.sandbox.control.iccids({ status: 'ACTIVE', hasTopups: true })[0]!;
    h.sandbox.control.addFault({ endpoint: 'topups', errorStatus: 503 });
    const result = await h.gql(SimResources, { iccid });
    expect(result.data!.sim!.topupPackages).toBeNull();
    expect(result.data!.sim!.usage!.status).toBe('ACTIVE');
    const error = result.errors!.find((e) => e.path?.join('.') === 'sim.topupPackages')!;
    expect(error.extensions!.code).toBe('UPSTREAM_UNAVAILABLE');
    expect(JSON.stringify(result.errors)).not.toMatch(/503|sandbox|127\.0\.0\.1/);
  });

  it('reports SIM_RECYCLED for the top-up list of a recycled SIM', async () => {
    h = await startHarness();
    const iccid = h.sandbox.control.iccids({ status: 'RECYCLED' })[0]!;
    const result = await h.gql(SimResources, { iccid });
    expect(result.data!.sim!.iccid).toBe(iccid);
    expect(result.data!.sim!.usage!.status).toBe('RECYCLED');
    expect(result.errors!.find((e) => e.path?.join('.') === 'sim.topupPackages')!.extensions!.code).toBe(
      'SIM_RECYCLED',
    );
  });

  it('masks malformed upstream JSON as UPSTREAM_UNAVAILABLE without echoing the body', async () => {
    h = await startHarness();
    const iccid = h.sandbox.control.iccids({ status: 'ACTIVE' })[0]!;
    h.sandbox.control.addFault({ endpoint: 'usage', malformedJson: true });
    const result = await h.gql(SimResources, { iccid });
    expect(result.data!.sim!.usage).toBeNull();
    expect(result.errors!.find((e) => e.path?.join('.') === 'sim.usage')!.extensions!.code).toBe(
      'UPSTREAM_UNAVAILABLE',
    );
  });
});
