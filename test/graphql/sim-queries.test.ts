/**
 * Reads through the whole stack (yoga.fetch → Pothos → DataLoader → cache → undici → sandbox), counting
 * upstream calls at the sandbox.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DOCUMENTED_LIMITS } from '../../src/platform/upstream-limits.ts';
import type { SandboxOptions } from '../../src/sandbox/index.ts';
import { graphql } from '../__generated__/gql.ts';
import { type Flavour, type Harness, startHarness } from '../support/harness.ts';

const SimScreen = graphql(`
  query SimScreen($iccid: ID!) {
    sim(iccid: $iccid) {
      iccid
      createdAt
      lpa
      matchingId
      qrCode
      qrCodeUrl
      appleInstallUrl
      apnType
      apnValue
      isRoaming
      recycled
      recycledAt
      voucherCode
      confirmationCode
      detailsFetchedAt
      usage {
        status
        remainingMb
        totalMb
        usedMb
        isUnlimited
        expiresAt
        remainingVoiceMinutes
        totalVoiceMinutes
        remainingTexts
        totalTexts
        fetchedAt
        stale
      }
      topupPackages {
        id
        title
        price { amount currency }
        netPrice { amount currency }
        amountMb
        validityDays
        isUnlimited
        dataLabel
        voiceMinutes
        texts
        shortInfo
      }
      packageHistory {
        id
        status
        remainingMb
        activatedAt
        expiresAt
        finishedAt
        package {
          id
          type
          title
          price { amount currency }
          netPrice { amount currency }
          amountMb
          validityDays
          isUnlimited
          dataLabel
        }
      }
    }
  }
`);

const ManySims = graphql(`
  query ManySims($iccids: [ID!]!) {
    first: sims(iccids: $iccids) {
      iccid
      usage { remainingMb status }
      topupPackages { id }
    }
    second: sims(iccids: $iccids) {
      iccid
      usage { totalMb }
      packageHistory { id }
    }
  }
`);

const UsageOnly = graphql(`
  query UsageOnly($iccids: [ID!]!) {
    sims(iccids: $iccids) {
      iccid
      usage { status remainingMb fetchedAt stale }
    }
  }
`);

const SimList = graphql(`
  query SimList($first: Int, $after: String, $iccidContains: String) {
    simList(first: $first, after: $after, iccidContains: $iccidContains) {
      totalCount
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      edges { cursor node { iccid lpa } }
    }
  }
`);

const BalanceQuery = graphql(`
  query PartnerBalance {
    balance { available { amount currency } fetchedAt stale }
  }
`);

let harnesses: Harness[] = [];
async function harness(flavour: Flavour = 'pressone', env: Record<string, string> = {}, sandbox: SandboxOptions = {}) {
  const h = await startHarness({ flavour, env, sandbox });
  harnesses.push(h);
  return h;
}

/**
 * Airalo's limits without its partner-wide 5 usage reads per second, for tests that count calls of many SIMs read at
 * one instant of the manual clock (a cold 25-SIM screen needs 5 s of that budget): what they assert is the calls made,
 * not the pacing. The per-ICCID limits stay.
 */
const AIRALO_WITHOUT_PARTNER_USAGE_LIMIT: SandboxOptions = {
  limits: {
    airalo: {
      endpoints: {
        ...DOCUMENTED_LIMITS.airalo.endpoints,
        usage: DOCUMENTED_LIMITS.airalo.endpoints.usage!.filter((l) => l.scope !== 'per-partner'),
      },
      all: [],
    },
  },
};
/** The gateway told the same (its scheduler would otherwise pace the reads on a clock these tests do not advance). */
const AIRALO_WITHOUT_PARTNER_USAGE_ENV = { UPSTREAM_LIMIT_USAGE: '10/60s per-iccid' };
afterEach(async () => {
  await Promise.all(harnesses.map((h) => h.close()));
  harnesses = [];
});

const DECIMAL = /^\d+\.\d{2,}$/;

describe.each(['pressone', 'airalo'] as const)('reads on the %s flavour', (flavour) => {
  it('resolves every field of an active SIM from its four upstream resources', async () => {
    const h = await harness(flavour);
    const [iccid] = h.sandbox.control.iccids({ status: 'ACTIVE', hasTopups: true });
    const result = await h.gql(SimScreen, { iccid: iccid! });
    expect(result.errors).toBeUndefined();
    const sim = result.data!.sim!;
    expect(sim.iccid).toBe(iccid);
    expect(sim.qrCode).toMatch(/^LPA:1\$/);
    expect(sim.createdAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(sim.recycled).toBe(false);
    expect(sim.usage!.status).toBe('ACTIVE');
    expect(sim.usage!.stale).toBe(false);
    expect(sim.topupPackages!.length).toBeGreaterThan(0);
    for (const p of sim.topupPackages!) {
      expect(p.price.amount).toMatch(DECIMAL);
      expect(p.price.currency).toBe('USD');
    }
    expect(sim.packageHistory!.length).toBeGreaterThan(0);
    expect(sim.packageHistory!.some((h) => h.package.type === 'INITIAL')).toBe(true);
    for (const endpoint of ['sim', 'usage', 'topups', 'packages'] as const) {
      expect(h.sandbox.control.countCalls({ endpoint, iccid: iccid! })).toBe(1);
    }
  });

  it('answers an unknown ICCID with null and SIM_NOT_FOUND, and a malformed one with BAD_USER_INPUT and no upstream call', async () => {
    const h = await harness(flavour);
    const unknown = await h.gql(SimScreen, { iccid: '8999999999999999999' });
    expect(unknown.data!.sim).toBeNull();
    expect(unknown.errors![0]!.extensions!.code).toBe('SIM_NOT_FOUND');
    h.sandbox.control.resetCalls();
    const malformed = await h.gql(SimScreen, { iccid: '12-not-an-iccid' });
    expect(malformed.data!.sim).toBeNull();
    expect(malformed.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
    expect(h.sandbox.control.countCalls()).toBe(0);
  });

  it('makes exactly one upstream call per (ICCID, selected resource) for 50 SIMs with duplicates and aliases, and none when repeated', async () => {
    const h = await harness(flavour, AIRALO_WITHOUT_PARTNER_USAGE_ENV, AIRALO_WITHOUT_PARTNER_USAGE_LIMIT);
    const distinct = h.sandbox.control.iccids().slice(0, 25);
    expect(distinct).toHaveLength(25);
    const iccids = [...distinct, ...distinct.slice().reverse()];
    const result = await h.gql(ManySims, { iccids });
    expect(result.errors ?? []).toEqual(
      // only SIMs the upstream refuses (recycled top-up lists) may error, and only on that field
      (result.errors ?? []).filter((e) => e.path?.at(-1) === 'topupPackages' && e.extensions?.code === 'SIM_RECYCLED'),
    );
    expect(result.data!.first!.map((s) => s!.iccid)).toEqual(iccids);
    expect(result.data!.second!.map((s) => s!.iccid)).toEqual(iccids);
    for (const endpoint of ['sim', 'usage', 'topups', 'packages'] as const) {
      for (const iccid of distinct) expect(h.sandbox.control.countCalls({ endpoint, iccid })).toBe(1);
      expect(h.sandbox.control.countCalls({ endpoint })).toBe(25);
    }
    h.sandbox.control.resetCalls();
    const again = await h.gql(ManySims, { iccids });
    expect(again.data).toEqual(result.data);
    expect(
      h.sandbox.control.countCalls({ endpoint: 'sim' }) + h.sandbox.control.countCalls({ endpoint: 'usage' }),
    ).toBe(0);
    expect(
      h.sandbox.control.countCalls({ endpoint: 'packages' }) + h.sandbox.control.countCalls({ endpoint: 'topups' }),
    ).toBe(0);
  });
});

describe('what a query costs upstream', () => {
  it('fetches only the selected resources', async () => {
    const h = await harness();
    const iccids = h.sandbox.control.iccids({ status: 'ACTIVE' }).slice(0, 5);
    await h.gql(UsageOnly, { iccids });
    expect(h.sandbox.control.countCalls({ endpoint: 'usage' })).toBe(5);
    expect(h.sandbox.control.countCalls({ endpoint: 'sim' })).toBe(5);
    expect(h.sandbox.control.countCalls({ endpoint: 'topups' })).toBe(0);
    expect(h.sandbox.control.countCalls({ endpoint: 'packages' })).toBe(0);
  });

  it('asks for the selected resources alongside the existence check, not one round trip after it', async () => {
    const h = await harness();
    const iccid = h.sandbox.control.iccids({ status: 'ACTIVE' })[0]!;
    h.sandbox.control.addFault({ endpoint: 'sim', iccid, latencyMs: 1_000 });
    const pending = h.gql(
      'query Q($iccid: ID!) { sim(iccid: $iccid) { iccid usage { status } topupPackages { id } } }',
      { iccid },
    );
    // usage and top-ups are answered while the details call is still under way
    await expect
      .poll(
        () =>
          h.sandbox.control.countCalls({ endpoint: 'usage', iccid }) +
          h.sandbox.control.countCalls({ endpoint: 'topups', iccid }),
        { timeout: 800 },
      )
      .toBe(2);
    expect(h.sandbox.control.countCalls({ endpoint: 'sim', iccid })).toBe(0);
    const result = await pending;
    expect(result.errors).toBeUndefined();
    expect(result.data.sim.usage.status).toBe('ACTIVE');
    expect(h.sandbox.control.countCalls({ iccid })).toBe(3);
  });

  it('never prefetches a field under @skip/@include, and an unknown ICCID still answers SIM_NOT_FOUND', async () => {
    const h = await harness();
    const iccid = h.sandbox.control.iccids({ status: 'ACTIVE' })[0]!;
    const skipped = await h.gql(
      'query Q($iccid: ID!, $no: Boolean!) { sim(iccid: $iccid) { iccid usage @include(if: $no) { status } } }',
      { iccid, no: false },
    );
    expect(skipped.errors).toBeUndefined();
    expect(h.sandbox.control.countCalls({ endpoint: 'usage' })).toBe(0);
    const unknown = await h.gql('query Q($iccid: ID!) { sim(iccid: $iccid) { iccid usage { status } } }', {
      iccid: '8999000000000000001',
    });
    expect(unknown.data.sim).toBeNull();
    expect(unknown.errors!.map((e) => e.extensions?.code)).toEqual(['SIM_NOT_FOUND']);
  });

  it('refreshes usage after its TTL but not the long-cached details (injected clock)', async () => {
    const h = await harness('pressone', { CACHE_USAGE_TTL_SECONDS: '300', CACHE_STALE_WHILE_REVALIDATE_SECONDS: '0' });
    const iccids = h.sandbox.control.iccids({ status: 'ACTIVE' }).slice(0, 3);
    const first = await h.gql(UsageOnly, { iccids });
    h.clock.advance(299_000);
    await h.gql(UsageOnly, { iccids });
    expect(h.sandbox.control.countCalls({ endpoint: 'usage' })).toBe(3);
    h.clock.advance(2_000);
    const later = await h.gql(UsageOnly, { iccids });
    expect(h.sandbox.control.countCalls({ endpoint: 'usage' })).toBe(6);
    expect(h.sandbox.control.countCalls({ endpoint: 'sim' })).toBe(3);
    expect(Date.parse(later.data!.sims![0]!.usage!.fetchedAt)).toBe(
      Date.parse(first.data!.sims![0]!.usage!.fetchedAt) + 301_000,
    );
  });

  it('serves usage just past its TTL at once, marked stale, and refreshes it in the background', async () => {
    const h = await harness('pressone', { CACHE_USAGE_TTL_SECONDS: '300', CACHE_STALE_WHILE_REVALIDATE_SECONDS: '60' });
    const iccids = h.sandbox.control.iccids({ status: 'ACTIVE' }).slice(0, 1);
    const first = await h.gql(UsageOnly, { iccids });
    h.clock.advance(330_000);
    const stale = await h.gql(UsageOnly, { iccids });
    expect(stale.data!.sims![0]!.usage).toMatchObject({
      stale: true,
      fetchedAt: first.data!.sims![0]!.usage!.fetchedAt,
    });
    await expect.poll(() => h.sandbox.control.countCalls({ endpoint: 'usage', status: 200 })).toBe(2);
    await expect.poll(async () => (await h.gql(UsageOnly, { iccids })).data!.sims![0]!.usage!.stale).toBe(false);
    expect(h.sandbox.control.countCalls({ endpoint: 'usage' })).toBe(2);
  });

  it('coalesces concurrent requests for the same SIM into one upstream call per resource', async () => {
    const h = await harness();
    const iccids = h.sandbox.control.iccids({ status: 'ACTIVE' }).slice(0, 1);
    const results = await Promise.all(Array.from({ length: 30 }, () => h.gql(UsageOnly, { iccids })));
    expect(results.every((r) => r.data!.sims![0]!.usage!.status === 'ACTIVE')).toBe(true);
    expect(h.sandbox.control.countCalls({ endpoint: 'usage' })).toBe(1);
    expect(h.sandbox.control.countCalls({ endpoint: 'sim' })).toBe(1);
  });

  it('rejects more ICCIDs than MAX_SIMS_PER_QUERY before any upstream call', async () => {
    const h = await harness('pressone', { MAX_SIMS_PER_QUERY: '10' });
    const iccids = h.sandbox.control.iccids().slice(0, 11);
    const result = await h.gql(UsageOnly, { iccids });
    expect(result.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
    expect(h.sandbox.control.countCalls()).toBe(0);
  });
});

describe('flavours', () => {
  it('normalise to the same GraphQL result', async () => {
    const pressone = await harness('pressone');
    const airalo = await harness('airalo', AIRALO_WITHOUT_PARTNER_USAGE_ENV, AIRALO_WITHOUT_PARTNER_USAGE_LIMIT);
    const iccids = pressone.sandbox.control.iccids().slice(0, 20);
    for (const iccid of iccids) {
      const [a, b] = await Promise.all([pressone.gql(SimScreen, { iccid }), airalo.gql(SimScreen, { iccid })]);
      // The two sandboxes differ only in their port, which their QR code URLs carry.
      const withoutOrigin = (r: unknown, sandboxUrl: string) =>
        JSON.parse(JSON.stringify(r).replaceAll(sandboxUrl, 'SANDBOX'));
      expect(withoutOrigin(b, airalo.sandbox.url)).toEqual(withoutOrigin(a, pressone.sandbox.url));
    }
  });
});

describe('simList', () => {
  it('pages through the upstream list with cursors and primes the details cache', async () => {
    const h = await harness();
    const page1 = await h.gql(SimList, { first: 7 });
    expect(page1.errors).toBeUndefined();
    const list1 = page1.data!.simList!;
    expect(list1.totalCount).toBe(50);
    expect(list1.edges).toHaveLength(7);
    expect(list1.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    const page2 = await h.gql(SimList, { first: 7, after: list1.pageInfo.endCursor });
    const list2 = page2.data!.simList!;
    expect(list2.edges).toHaveLength(7);
    expect(list2.pageInfo.hasPreviousPage).toBe(true);
    const seen = new Set([...list1.edges, ...list2.edges].map((e) => e.node.iccid));
    expect(seen.size).toBe(14);

    h.sandbox.control.resetCalls();
    await h.gql(SimScreen, { iccid: list2.edges[3]!.node.iccid });
    expect(h.sandbox.control.countCalls({ endpoint: 'sim' })).toBe(0);
  });

  it('reads an unaligned window across two upstream pages and walks to the end', async () => {
    const h = await harness();
    const all: string[] = [];
    let after: string | null = null;
    for (let i = 0; i < 20; i++) {
      const page: any = await h.gql(SimList, { first: i === 0 ? 3 : 8, after });
      all.push(...page.data.simList.edges.map((e: any) => e.node.iccid));
      after = page.data.simList.pageInfo.endCursor;
      if (!page.data.simList.pageInfo.hasNextPage) break;
    }
    expect(all).toHaveLength(50);
    expect(new Set(all).size).toBe(50);
  });

  it('filters by ICCID substring and validates its arguments', async () => {
    const h = await harness();
    const target = h.sandbox.control.iccids()[4]!;
    const filtered = await h.gql(SimList, { first: 10, iccidContains: target.slice(-8) });
    expect(filtered.data!.simList!.edges.map((e) => e.node.iccid)).toContain(target);
    const bad = await h.gql(SimList, { first: 0 });
    expect(bad.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
    const badCursor = await h.gql(SimList, { first: 5, after: 'nonsense' });
    expect(badCursor.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
  });
});

describe('balance', () => {
  it('reads the partner balance as Money with a decimal string', async () => {
    const h = await harness('airalo');
    const result = await h.gql(BalanceQuery);
    expect(result.errors).toBeUndefined();
    expect(result.data!.balance!.available.currency).toBe('USD');
    expect(result.data!.balance!.available.amount).toMatch(DECIMAL);
    expect(Number(result.data!.balance!.available.amount)).toBe(h.sandbox.control.balance());
  });
});
