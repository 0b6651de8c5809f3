/**
 * Issue 10, items 14–16, through GraphQL against the sandbox: upstream calls are bounded per request, a missing
 * balance is an upstream error, and call budgets outlive the cache's LRU bound.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../support/harness.ts';

let h: Harness;
afterEach(async () => h?.close());

describe('call budgets outlive the LRU bound (item 16)', () => {
  it('CACHE_MAX_SIMS=10, history of 50 distinct SIMs read twice within 15 min → one history call per SIM', async () => {
    h = await startHarness({ env: { CACHE_MAX_SIMS: '10' } });
    const iccids = h.sandbox.control.iccids().slice(0, 50);
    expect(iccids).toHaveLength(50);
    const query = 'query($iccids: [ID!]!) { sims(iccids: $iccids) { iccid packageHistory { id } } }';
    const first = await h.gql(query, { iccids });
    expect(first.errors).toBeUndefined();
    expect(h.sandbox.control.countCalls({ endpoint: 'packages' })).toBe(50);

    // The history cache holds 10 of the 50: the other 40 are evicted, but their budgets are not.
    h.clock.advance(5 * 60_000);
    const second = await h.gql(query, { iccids });
    for (const iccid of iccids) expect(h.sandbox.control.countCalls({ endpoint: 'packages', iccid })).toBe(1);
    const limited = second.errors!.filter((e) => e.extensions?.code === 'RATE_LIMITED');
    expect(limited.length).toBeGreaterThanOrEqual(40);
    expect(limited.every((e) => e.extensions!.retryAfterSeconds > 0 && e.extensions!.retryAfterSeconds <= 600)).toBe(
      true,
    );

    // Once the window has passed, each SIM may be read again, once.
    h.clock.advance(10 * 60_000);
    await h.gql(query, { iccids });
    for (const iccid of iccids)
      expect(h.sandbox.control.countCalls({ endpoint: 'packages', iccid })).toBeLessThanOrEqual(2);
  });
});

describe('a missing balance is an upstream error, not zero (item 15)', () => {
  it('an empty balances list → UPSTREAM_UNAVAILABLE on balance, never 0.00 USD', async () => {
    h = await startHarness();
    h.sandbox.control.addFault({ endpoint: 'balance', emptyBalances: true, times: 1 });
    const missing = await h.gql('{ balance { available { amount currency } } }');
    expect(missing.data).toEqual({ balance: null });
    expect(missing.errors).toEqual([
      expect.objectContaining({ path: ['balance'], extensions: { code: 'UPSTREAM_UNAVAILABLE' } }),
    ]);
    expect(JSON.stringify(missing)).not.toContain('0.00');

    // The next answer with an entry is served as usual: nothing bogus was cached.
    const present = await h.gql('{ balance { available { amount currency } } }');
    expect(present.errors).toBeUndefined();
    expect(present.data.balance.available).toEqual({ amount: expect.stringMatching(/^\d+\.\d{2}$/), currency: 'USD' });
    expect(h.sandbox.control.countCalls({ endpoint: 'balance' })).toBe(2);
  });
});

describe('oversize and trickling upstream answers (item 13)', () => {
  it('a 150 MB balance answer → UPSTREAM_UNAVAILABLE on balance, refused unread; logged with endpoint and size, no body', async () => {
    const lines: string[] = [];
    const { pino } = await import('pino');
    const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) });
    h = await startHarness({ env: { UPSTREAM_MAX_RESPONSE_BYTES: String(256 * 1024) }, logger });
    h.sandbox.control.addFault({ endpoint: 'balance', oversizeBody: { bytes: 150 * 1024 * 1024 }, times: 1 });
    const result = await h.gql('{ balance { available { amount } } }');
    expect(result.errors).toEqual([
      expect.objectContaining({ path: ['balance'], extensions: { code: 'UPSTREAM_UNAVAILABLE' } }),
    ]);
    const line = lines.map((l) => JSON.parse(l)).find((l) => l.endpoint === 'balance');
    expect(line).toMatchObject({ level: 40, endpoint: 'balance', error: 'UpstreamUnavailableError' });
    expect(line.reason).toContain('UPSTREAM_RESPONSE_TOO_LARGE: HTTP 200 with content-length 157286400 > 262144 bytes');
    expect(lines.join('')).not.toContain('availableBalance');
  });

  it('a chunked oversize usage answer → that field UPSTREAM_UNAVAILABLE, the rest of the SIM intact', async () => {
    h = await startHarness({ env: { UPSTREAM_MAX_RESPONSE_BYTES: String(64 * 1024), UPSTREAM_GET_RETRIES: '0' } });
    const iccid = h.sandbox.control.iccids({ status: 'ACTIVE', hasTopups: true })[0]!;
    h.sandbox.control.addFault({ endpoint: 'usage', iccid, oversizeBody: { bytes: 20 * 1024 * 1024, chunked: true } });
    const result = await h.gql(
      'query($iccid: ID!) { sim(iccid: $iccid) { iccid usage { status } topupPackages { id } } }',
      { iccid },
    );
    expect(result.data.sim.iccid).toBe(iccid);
    expect(result.data.sim.usage).toBeNull();
    expect(result.data.sim.topupPackages.length).toBeGreaterThan(0);
    expect(result.errors).toEqual([
      expect.objectContaining({ path: ['sim', 'usage'], extensions: { code: 'UPSTREAM_UNAVAILABLE' } }),
    ]);
  });

  it('a usage body trickling past UPSTREAM_CALL_DEADLINE_MS → UPSTREAM_UNAVAILABLE at the deadline, not never', async () => {
    h = await startHarness({ env: { UPSTREAM_CALL_DEADLINE_MS: '500', UPSTREAM_BODY_TIMEOUT_MS: '300' } });
    const iccid = h.sandbox.control.iccids({ status: 'ACTIVE' })[0]!;
    // 1 byte every 100 ms: each gap is under the 300 ms idle timeout, the whole body takes tens of seconds.
    h.sandbox.control.addFault({ endpoint: 'usage', iccid, trickleBody: { intervalMs: 100 } });
    const started = performance.now();
    const result = await h.gql('query($iccid: ID!) { sim(iccid: $iccid) { usage { status } } }', { iccid });
    expect(performance.now() - started).toBeLessThan(3_000);
    expect(result.errors).toEqual([
      expect.objectContaining({ path: ['sim', 'usage'], extensions: { code: 'UPSTREAM_UNAVAILABLE' } }),
    ]);
  });
});

describe('upstream calls per request are bounded (item 14)', () => {
  const unknownIccids = (alias: number) =>
    Array.from({ length: 100 }, (_, i) => `8999${String(alias).padStart(3, '0')}${String(i).padStart(12, '0')}`);
  const aliased = (n: number) =>
    `query(${Array.from({ length: n }, (_, a) => `$l${a}: [ID!]!`).join(', ')}) {\n` +
    Array.from({ length: n }, (_, a) => `  a${a}: sims(iccids: $l${a}) { iccid usage { status } }`).join('\n') +
    '\n}';
  const upstreamCalls = (h: Harness) => h.sandbox.control.calls().filter((c) => c.endpoint !== 'token').length;

  it('30 aliases × sims(100 unknown ICCIDs) → at most MAX_UPSTREAM_CALLS_PER_REQUEST calls, the rest QUERY_TOO_EXPENSIVE', async () => {
    h = await startHarness();
    const variables = Object.fromEntries(Array.from({ length: 30 }, (_, a) => [`l${a}`, unknownIccids(a)]));
    const result = await h.gql(aliased(30), variables);
    expect(result.status).toBe(200);
    const calls = upstreamCalls(h);
    expect(calls).toBeLessThanOrEqual(500); // was 3,000 detail calls + 3,000 prefetched usage calls
    const codes = new Map<string, number>();
    for (const e of result.errors ?? []) codes.set(e.extensions!.code, (codes.get(e.extensions!.code) ?? 0) + 1);
    expect(codes.get('SIM_NOT_FOUND')! + codes.get('QUERY_TOO_EXPENSIVE')!).toBe(3_000);
    expect(codes.get('QUERY_TOO_EXPENSIVE')).toBeGreaterThanOrEqual(2_500);
    const tooExpensive = result.errors!.find((e) => e.extensions!.code === 'QUERY_TOO_EXPENSIVE')!;
    expect(tooExpensive.extensions).toEqual({ code: 'QUERY_TOO_EXPENSIVE', maxUpstreamCalls: 500 });
    console.info(`[measure] 30 aliases × sims(100 unknown): ${calls} upstream calls (bound 500)`);
  });

  it('the same 100 unknown ICCIDs aliased 30 times cost 100 detail calls once, then nothing (negative cache)', async () => {
    h = await startHarness({ env: { MAX_UPSTREAM_CALLS_PER_REQUEST: '250' } });
    const variables = Object.fromEntries(Array.from({ length: 30 }, (_, a) => [`l${a}`, unknownIccids(0)]));
    const query = aliased(30).replaceAll(' usage { status }', '');
    const first = await h.gql(query, variables);
    expect(first.errors!.every((e) => e.extensions!.code === 'SIM_NOT_FOUND')).toBe(true);
    expect(h.sandbox.control.countCalls({ endpoint: 'sim' })).toBe(100);
    await h.gql(query, variables);
    expect(h.sandbox.control.countCalls({ endpoint: 'sim' })).toBe(100);
  });

  it('a legitimate maximal query (100 SIMs × details, usage, top-ups, history = 400 calls) fits the default bound', async () => {
    h = await startHarness({ sandbox: { simCount: 100 } });
    const iccids = h.sandbox.control.iccids();
    expect(iccids).toHaveLength(100);
    const result = await h.gql(
      'query($iccids: [ID!]!) { sims(iccids: $iccids) { iccid usage { status } topupPackages { id } packageHistory { id } } }',
      { iccids },
    );
    expect((result.errors ?? []).filter((e) => e.extensions?.code === 'QUERY_TOO_EXPENSIVE')).toEqual([]);
    expect(upstreamCalls(h)).toBe(400);
  });

  it('list pages and the balance count too: 12 unaligned simList aliases + balance (25 calls) with a bound of 20 → at most 20, the rest QUERY_TOO_EXPENSIVE', async () => {
    h = await startHarness({ env: { MAX_UPSTREAM_CALLS_PER_REQUEST: '20' } });
    // An unaligned window (`after` not on a page boundary) reads two upstream pages.
    const after = Buffer.from('sim:3').toString('base64url');
    const aliases = Array.from(
      { length: 12 },
      (_, a) => `  l${a}: simList(first: ${a + 5}, after: "${after}") { totalCount }`,
    ).join('\n');
    const result = await h.gql(`{\n  balance { available { amount } }\n${aliases}\n}`);
    // 1 balance + 2 pages per alias until fewer than 2 calls are left (a window takes its pages all or none).
    expect(upstreamCalls(h)).toBe(19);
    const refused = (result.errors ?? []).filter((e) => e.extensions?.code === 'QUERY_TOO_EXPENSIVE');
    expect(refused.length).toBeGreaterThanOrEqual(2);
    expect(refused.every((e) => String(e.path?.[0]).startsWith('l') || e.path?.[0] === 'balance')).toBe(true);
  });

  it('one ICCID whose details keep being evicted is re-read at most UPSTREAM_DETAILS_LIMIT_PER_MINUTE times a minute', async () => {
    h = await startHarness({ env: { CACHE_MAX_SIMS: '1', UPSTREAM_DETAILS_LIMIT_PER_MINUTE: '3' } });
    const [a, b] = h.sandbox.control.iccids();
    // Alternating two SIMs through a 1-entry details cache evicts each one on every request.
    for (let i = 0; i < 10; i++) await h.gql('query($i: ID!) { sim(iccid: $i) { iccid } }', { i: i % 2 ? b : a });
    expect(h.sandbox.control.countCalls({ endpoint: 'sim', iccid: a! })).toBe(3);
    const limited = await h.gql('query($i: ID!) { sim(iccid: $i) { iccid } }', { i: a });
    expect(limited.errors![0]!.extensions).toMatchObject({ code: 'RATE_LIMITED' });
    h.clock.advance(60_000);
    await h.gql('query($i: ID!) { sim(iccid: $i) { iccid } }', { i: a });
    expect(h.sandbox.control.countCalls({ endpoint: 'sim', iccid: a! })).toBe(4);
  });
});
