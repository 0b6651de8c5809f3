/**
 * Fault matrix, end to end: the whole gateway (Yoga → loaders → caches → upstream client) against the in-process
 * sandbox with injected faults, on a manual clock.
 *
 * For every GET resource the gateway reads and every transport / server fault, a query selecting that resource
 * - returns within the timeout budget (never hangs), with
 * - cold cache: the field null and a typed UPSTREAM_UNAVAILABLE error (never SIM_NOT_FOUND, never an unmasked
 *   message, nothing from the upstream's body or the transport),
 * - warm cache past its freshness: the cached value, served stale (same fetchedAt),
 * and the gateway answers normally once the fault is gone.
 * Then the circuit breaker: sustained 503s open it (no sandbox calls while open), a failed probe re-opens it, it
 * recovers after the cool-down; 429s and 404s never open it.
 *
 * Timeouts are short (300 ms configured; undici rounds sub-second headers/body timeouts up to its ~1 s timer tick).
 */
import { afterEach, describe, type ExpectStatic, expect, it } from 'vitest';
import type { GatewayCaches } from '../../src/domain/cache/index.ts';
import type { FaultRule, SandboxEndpoint } from '../../src/sandbox/types.ts';
import { type GqlResult, type Harness, startHarness } from '../support/harness.ts';

const TIMEOUTS = {
  UPSTREAM_HEADERS_TIMEOUT_MS: '300',
  UPSTREAM_BODY_TIMEOUT_MS: '300',
  UPSTREAM_CONNECT_TIMEOUT_MS: '300',
};
/**
 * Stale-while-revalidate off: a read past its TTL then waits for the upstream and meets the fault itself, which is the
 * path under test (stale-if-error). The SWR path is covered separately below.
 */
const ENV = { ...TIMEOUTS, CACHE_STALE_WHILE_REVALIDATE_SECONDS: '0' };
/** Worst case per query: a ~1 s timeout tick, or three 5xx attempts with their backoff; generous for a loaded CI box. */
const QUERY_BUDGET_MS = 3_000;
/** Default freshness per resource (README, "Caching and upstream budgets"); package history also has a 15-min budget. */
const TTL_SECONDS = { sim: 3_600, usage: 300, topups: 60, packages: 900, balance: 30 } as const;

type Resource = keyof typeof TTL_SECONDS;

interface ResourceCase {
  /** Response path of the field that must carry the value or the error. */
  path: string;
  query: string;
  cache: keyof GatewayCaches;
  /** The resource as the client sees it, from a successful response. */
  value(data: any): unknown;
  /** fetchedAt (or the details' equivalent) of the value. */
  fetchedAt(data: any): unknown;
  /** `stale` as the schema exposes it; undefined where it has no such field (then cache stats tell). */
  stale(data: any): boolean | undefined;
}

const RESOURCES: Record<Resource, ResourceCase> = {
  sim: {
    path: 'sim',
    query: 'query Q($iccid: ID!) { sim(iccid: $iccid) { iccid lpa matchingId detailsFetchedAt } }',
    cache: 'details',
    value: (d) => d.sim,
    fetchedAt: (d) => d.sim?.detailsFetchedAt,
    stale: () => undefined,
  },
  usage: {
    path: 'sim.usage',
    query: 'query Q($iccid: ID!) { sim(iccid: $iccid) { iccid usage { status remainingMb totalMb stale fetchedAt } } }',
    cache: 'usage',
    value: (d) => (d.sim?.usage ? { ...d.sim.usage, stale: undefined } : d.sim?.usage),
    fetchedAt: (d) => d.sim?.usage?.fetchedAt,
    stale: (d) => d.sim?.usage?.stale,
  },
  topups: {
    path: 'sim.topupPackages',
    query: 'query Q($iccid: ID!) { sim(iccid: $iccid) { iccid topupPackages { id title price { amount currency } } } }',
    cache: 'topups',
    value: (d) => d.sim?.topupPackages,
    fetchedAt: () => undefined,
    stale: () => undefined,
  },
  packages: {
    path: 'sim.packageHistoryInfo',
    query:
      'query Q($iccid: ID!) { sim(iccid: $iccid) { iccid packageHistoryInfo { stale fetchedAt entries { id status } } } }',
    cache: 'history',
    value: (d) => d.sim?.packageHistoryInfo?.entries,
    fetchedAt: (d) => d.sim?.packageHistoryInfo?.fetchedAt,
    stale: (d) => d.sim?.packageHistoryInfo?.stale,
  },
  balance: {
    path: 'balance',
    query: 'query Q { balance { available { amount currency } stale fetchedAt } }',
    cache: 'balance',
    value: (d) => d?.balance?.available,
    fetchedAt: (d) => d?.balance?.fetchedAt,
    stale: (d) => d?.balance?.stale,
  },
};

type FaultName =
  | 'hang'
  | 'reset after-headers'
  | 'reset mid-body (truncated body)'
  | '500'
  | '502'
  | '503'
  | '504'
  | 'malformed JSON';

/** `times: 3` covers every attempt a GET may make (1 + 2 retries); the rule is gone afterwards. */
const FAULTS: Record<FaultName, Omit<FaultRule, 'endpoint' | 'iccid'>> = {
  hang: { hang: true, times: 3 },
  'reset after-headers': { reset: 'after-headers', times: 3 },
  'reset mid-body (truncated body)': { reset: 'mid-body', times: 3 },
  '500': { errorStatus: 500, times: 3 },
  '502': { errorStatus: 502, times: 3 },
  '503': { errorStatus: 503, times: 3 },
  '504': { errorStatus: 504, times: 3 },
  'malformed JSON': { malformedJson: true, times: 3 },
};

/** Nothing of the transport, the upstream's bodies, its address or our credentials may reach a client. */
const LEAKS =
  /UND_ERR|ECONN|EPIPE|socket|timeout|nginx|<html|Gateway Time-out|Bad Gateway|Server Error|Service Unavailable|Too Many Attempts|resource_not_found|HTTP \d{3}|127\.0\.0\.1|sandbox|Bearer|secret|access_token|not JSON|Unexpected error/i;

const at = (result: GqlResult<any>, path: string) => (result.errors ?? []).filter((e) => e.path?.join('.') === path);

function expectOnlyTypedErrors(expect: ExpectStatic, result: GqlResult<any>, codes: string[]): void {
  for (const error of result.errors ?? []) {
    expect(codes, `unexpected error ${JSON.stringify(error)}`).toContain(error.extensions?.code);
  }
  expect(JSON.stringify(result.errors ?? [])).not.toMatch(LEAKS);
}

async function timed<T>(run: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const started = performance.now();
  const result = await run();
  return { result, ms: performance.now() - started };
}

async function stableIccid(h: Harness): Promise<string> {
  // An ACTIVE SIM whose operator sells top-ups and that has history: every resource has a non-empty value.
  return h.sandbox.control.iccids({ status: 'ACTIVE', hasTopups: true })[0]!;
}

describe.concurrent('fault matrix: every GET resource × every upstream fault', () => {
  for (const [resource, spec] of Object.entries(RESOURCES) as [Resource, ResourceCase][]) {
    for (const [faultName, fault] of Object.entries(FAULTS) as [FaultName, Omit<FaultRule, 'endpoint' | 'iccid'>][]) {
      it(`${resource} × ${faultName}: cold → UPSTREAM_UNAVAILABLE; warm past TTL → stale value; no hang`, async ({
        expect,
      }) => {
        const h = await startHarness({ env: ENV });
        try {
          const iccid = await stableIccid(h);
          const variables = resource === 'balance' ? {} : { iccid };
          const endpoint: SandboxEndpoint = resource;
          const inject = () =>
            h.sandbox.control.addFault({ endpoint, ...(resource === 'balance' ? {} : { iccid }), ...fault });
          const ttlMs = TTL_SECONDS[resource] * 1000 + 1_000;

          // 1. Cold cache: null (only that field) + UPSTREAM_UNAVAILABLE, in time.
          inject();
          const cold = await timed(() => h.gql(spec.query, variables));
          expect(cold.ms).toBeLessThan(QUERY_BUDGET_MS);
          expect(cold.result.status).toBe(200);
          expect(spec.value(cold.result.data ?? null) ?? null).toBeNull();
          expect(
            at(cold.result, spec.path).map((e) => e.extensions?.code),
            JSON.stringify(cold.result),
          ).toEqual(['UPSTREAM_UNAVAILABLE']);
          expectOnlyTypedErrors(expect, cold.result, ['UPSTREAM_UNAVAILABLE']);
          if (resource !== 'sim' && resource !== 'balance') expect(cold.result.data.sim.iccid).toBe(iccid); // the rest of the SIM stays
          expect(h.sandbox.control.countCalls({ endpoint })).toBeGreaterThan(0);

          // 2. Fault gone (and the per-SIM history budget renewed): a normal answer, which warms the cache.
          h.sandbox.control.clearFaults();
          h.clock.advance(ttlMs);
          const warm = await h.gql(spec.query, variables);
          expect(warm.errors).toBeUndefined();
          expect(spec.value(warm.data)).toBeTruthy();
          expect(spec.stale(warm.data) ?? false).toBe(false);

          // 3. Past its freshness, the same fault: the cached value, marked stale, with its original fetchedAt.
          h.clock.advance(ttlMs);
          const callsBefore = h.sandbox.control.countCalls({ endpoint });
          const staleServesBefore = h.gateway.services.caches[spec.cache].stats.staleServes;
          inject();
          const stale = await timed(() => h.gql(spec.query, variables));
          expect(stale.ms).toBeLessThan(QUERY_BUDGET_MS);
          expect(h.sandbox.control.countCalls({ endpoint })).toBeGreaterThan(callsBefore); // the fault was really met
          expectOnlyTypedErrors(expect, stale.result, ['UPSTREAM_UNAVAILABLE']);
          if (faultName === 'malformed JSON' && spec.value(stale.result.data ?? null) == null) {
            // An unparsable 200 is a bad answer, not an unavailable upstream: the cache does not serve stale for it
            // (src/cache/resource-cache.ts). Either way the client gets a typed error, never the body.
            expect(at(stale.result, spec.path).map((e) => e.extensions?.code)).toEqual(['UPSTREAM_UNAVAILABLE']);
          } else {
            expect(stale.result.errors).toBeUndefined();
            expect(spec.value(stale.result.data)).toEqual(spec.value(warm.data));
            expect(spec.fetchedAt(stale.result.data)).toEqual(spec.fetchedAt(warm.data));
            expect(spec.stale(stale.result.data) ?? true).toBe(true);
            expect(h.gateway.services.caches[spec.cache].stats.staleServes).toBe(staleServesBefore + 1);
          }

          // 4. Alive and well: the fault spent, a fresh read works.
          h.sandbox.control.clearFaults();
          h.clock.advance(ttlMs);
          const after = await h.gql(spec.query, variables);
          expect(after.errors).toBeUndefined();
          expect(spec.stale(after.data) ?? false).toBe(false);
          expect(h.gateway.services.client.breakerState()).toBe('closed');
        } finally {
          await h.close();
        }
      });
    }
  }
});

describe('stale-while-revalidate (default config) under faults', () => {
  for (const kind of ['hang', '503'] as const) {
    it.concurrent(`a faulting background refresh (${kind}) never delays the stale answer, and recovers`, async ({
      expect,
    }) => {
      const h = await startHarness({ env: TIMEOUTS });
      try {
        const iccid = await stableIccid(h);
        const spec = RESOURCES.usage;
        const warm = await h.gql(spec.query, { iccid });
        h.clock.advance(TTL_SECONDS.usage * 1000 + 1_000); // inside the default 60 s SWR window
        h.sandbox.control.addFault({
          endpoint: 'usage',
          iccid,
          ...(kind === 'hang' ? { hang: true } : { errorStatus: 503 }),
          times: 3,
        });
        const stale = await timed(() => h.gql(spec.query, { iccid }));
        expect(stale.ms).toBeLessThan(250);
        expect(stale.result.errors).toBeUndefined();
        expect(spec.value(stale.result.data)).toEqual(spec.value(warm.data));
        expect(spec.stale(stale.result.data)).toBe(true);
        // The background refresh meets the fault and fails; the cached value stays, and so does the process.
        await expect
          .poll(() => h.sandbox.control.countCalls({ endpoint: 'usage', iccid }), { timeout: QUERY_BUDGET_MS })
          .toBeGreaterThan(1);
        await expect
          .poll(() => h.gateway.services.caches.usage.stats.upstreamCalls, { timeout: QUERY_BUDGET_MS })
          .toBe(2);
        await new Promise((resolve) => setTimeout(resolve, kind === 'hang' ? 1_500 : 400)); // let the refresh fail
        expect(h.gateway.services.caches.usage.peek(iccid)?.fetchedAt).toBe(
          spec.fetchedAt(warm.data) && Date.parse(spec.fetchedAt(warm.data) as string),
        );
        h.sandbox.control.clearFaults();
        await h.gql(spec.query, { iccid }); // stale again, triggers a refresh that now succeeds
        await expect
          .poll(async () => spec.stale((await h.gql(spec.query, { iccid })).data), { timeout: QUERY_BUDGET_MS })
          .toBe(false);
      } finally {
        await h.close();
      }
    });
  }
});

describe('circuit breaker, end to end', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  const UsageQuery = 'query Q($iccid: ID!) { sim(iccid: $iccid) { iccid usage { status stale } } }';

  it('sustained 503s open it: reads then fail fast with zero sandbox calls; a failed probe re-opens it; it recovers after the cool-down once the fault is cleared', async () => {
    h = await startHarness({ env: ENV });
    const iccids = h.sandbox.control.iccids();
    const fresh = (() => {
      let next = 1;
      return () => iccids[next++]!;
    })();
    const warm = await h.gql(UsageQuery, { iccid: iccids[0] });
    expect(warm.errors).toBeUndefined();

    h.sandbox.control.addFault({ errorStatus: 503 });
    let failing = 0;
    while (h.gateway.services.client.breakerState() === 'closed') {
      // Details only: a usage prefetched alongside would go on retrying after the answer and could take the probe later.
      const result = await h.gql('query Q($iccid: ID!) { sim(iccid: $iccid) { iccid lpa } }', { iccid: fresh() });
      expect(result.data.sim).toBeNull();
      expect(at(result, 'sim').map((e) => e.extensions?.code)).toEqual(['UPSTREAM_UNAVAILABLE']);
      expect(++failing).toBeLessThanOrEqual(5);
    }
    expect(h.gateway.services.client.breakerState()).toBe('open');

    // Open: every read fails fast, typed, without touching the sandbox.
    const callsWhenOpened = h.sandbox.control.countCalls();
    for (let i = 0; i < 10; i++) {
      const { result, ms } = await timed(() => h!.gql(UsageQuery, { iccid: fresh() }));
      expect(ms).toBeLessThan(250);
      expect(at(result, 'sim').map((e) => e.extensions?.code)).toEqual(['UPSTREAM_UNAVAILABLE']);
      expectOnlyTypedErrors(expect, result, ['UPSTREAM_UNAVAILABLE']);
    }
    const balance = await h.gql('{ balance { stale } }');
    expect(at(balance, 'balance').map((e) => e.extensions?.code)).toEqual(['UPSTREAM_UNAVAILABLE']);
    expect(h.sandbox.control.countCalls()).toBe(callsWhenOpened);

    // Cool-down over, fault still there: one probe reaches the sandbox, fails, and the breaker re-opens.
    h.clock.advance(30_000);
    expect(h.gateway.services.client.breakerState()).toBe('half-open');
    await h.gql(UsageQuery, { iccid: fresh() });
    expect(h.gateway.services.client.breakerState()).toBe('open');
    const afterProbe = h.sandbox.control.countCalls();
    expect(afterProbe).toBeGreaterThan(callsWhenOpened);
    expect(afterProbe - callsWhenOpened).toBeLessThanOrEqual(3); // one logical call, at most its GET retries
    await h.gql(UsageQuery, { iccid: fresh() });
    expect(h.sandbox.control.countCalls()).toBe(afterProbe);

    // Fault cleared, cool-down over: the probe succeeds, the breaker closes, reads work again.
    h.sandbox.control.clearFaults();
    h.clock.advance(30_000);
    const recovered = await h.gql(UsageQuery, { iccid: fresh() });
    expect(recovered.errors).toBeUndefined();
    expect(recovered.data.sim.usage.status).toBeTypeOf('string');
    expect(h.gateway.services.client.breakerState()).toBe('closed');
    expect(h.sandbox.control.countCalls()).toBeGreaterThan(afterProbe);
  });

  it('429s on many SIMs never open it', async () => {
    h = await startHarness({ env: ENV });
    const iccids = h.sandbox.control.iccids().slice(0, 30);
    h.sandbox.control.addFault({ endpoint: 'usage', rateLimit: { retryAfterSeconds: 120 } });
    const result = await h.gql('query Q($iccids: [ID!]!) { sims(iccids: $iccids) { iccid usage { status } } }', {
      iccids,
    });
    expect(h.sandbox.control.countCalls({ endpoint: 'usage', status: 429 })).toBe(30);
    expect(result.errors).toHaveLength(30);
    expectOnlyTypedErrors(expect, result, ['RATE_LIMITED']);
    expect(h.gateway.services.client.breakerState()).toBe('closed');

    // Still closed: the next read reaches the sandbox.
    const before = h.sandbox.control.countCalls();
    const balance = await h.gql('{ balance { stale } }');
    expect(balance.errors).toBeUndefined();
    expect(h.sandbox.control.countCalls()).toBe(before + 1);
  });

  it('404s on many unknown ICCIDs never open it (and say SIM_NOT_FOUND)', async () => {
    h = await startHarness({ env: ENV });
    const unknown = Array.from({ length: 30 }, (_, i) => `1111000000000000${String(i).padStart(3, '0')}`);
    const result = await h.gql('query Q($iccids: [ID!]!) { sims(iccids: $iccids) { iccid usage { status } } }', {
      iccids: unknown,
    });
    expect(result.data.sims).toEqual(unknown.map(() => null));
    expect(h.sandbox.control.countCalls({ endpoint: 'sim', status: 404 })).toBe(30);
    expectOnlyTypedErrors(expect, result, ['SIM_NOT_FOUND']);
    expect(h.gateway.services.client.breakerState()).toBe('closed');

    const iccid = h.sandbox.control.iccids({ status: 'ACTIVE' })[0]!;
    const known = await h.gql(UsageQuery, { iccid });
    expect(known.errors).toBeUndefined();
    expect(h.sandbox.control.countCalls({ iccid })).toBe(2);
  });
});
