import { afterEach, describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/platform/clock.ts';
import { UpstreamAuthError, UpstreamRateLimitedError, UpstreamUnavailableError } from '../../src/upstream/index.ts';
import { createTokenManager, tokenLifetimeSeconds } from '../../src/upstream/token.ts';
import { ACCESS_TOKEN, airalo, CLIENT_ID, CLIENT_SECRET, createHarness, fixture, type Harness } from './helpers.ts';

const BALANCE = JSON.stringify({
  data: { balances: { name: 'balance', availableBalance: { amount: 12.5, currency: 'USD' } } },
  meta: { message: 'success' },
});

let harness: Harness | undefined;
afterEach(async () => {
  harness?.agent.assertNoPendingInterceptors();
  await harness?.close();
  harness = undefined;
});

describe('token request', () => {
  it('is fetched lazily, form-encoded, with Accept and without Authorization', async () => {
    harness = createHarness('pressone');
    const h = harness;
    h.serveTokens();
    expect(h.tokenRequests()).toHaveLength(0);
    h.reply('GET', '/balance', 200, BALANCE);
    await h.client.getBalance();
    const [token] = h.tokenRequests();
    expect(token).toBeDefined();
    expect(token!.path).toBe('/customer/v2/token');
    expect(token!.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(token!.headers.accept).toBe('application/json');
    expect(token!.headers.authorization).toBeUndefined();
    expect(Object.fromEntries(new URLSearchParams(token!.body!))).toEqual({
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      grant_type: 'client_credentials',
    });
    expect(h.calls.map((c) => c.endpoint)).toEqual(['token', 'balance']);
    expect(JSON.stringify(h.calls)).not.toContain(CLIENT_SECRET);
    expect(JSON.stringify(h.calls)).not.toContain(ACCESS_TOKEN);
  });

  it('is single-flight: 100 concurrent calls without a token cause exactly one token request', async () => {
    harness = createHarness('airalo');
    const h = harness;
    h.serveTokens();
    h.pool.intercept({ path: '/v2/balance', method: 'GET' }).reply(200, BALANCE).times(100);
    const results = await Promise.all(Array.from({ length: 100 }, () => h.client.getBalance()));
    expect(results.every((r) => r.amount === '12.50')).toBe(true);
    expect(h.tokenRequests()).toHaveLength(1);
  });

  it('is cached until min(expires_in − 60 s, tokenRefreshSeconds) on the injected clock, then refreshed', async () => {
    harness = createHarness('airalo', { tokenRefreshSeconds: 3600 });
    const h = harness;
    h.serveTokens('token-1', 'token-2');
    h.pool.intercept({ path: '/v2/balance', method: 'GET' }).reply(200, BALANCE).times(3);
    await h.client.getBalance();
    h.clock.advance(3_599_000);
    await h.client.getBalance();
    expect(h.tokenRequests()).toHaveLength(1);
    h.clock.advance(1_000);
    await h.client.getBalance();
    expect(h.tokenRequests()).toHaveLength(2);
  });

  it('computes the token lifetime with a 60 s margin and the daily default', () => {
    expect(tokenLifetimeSeconds(31_622_400, 86_400)).toBe(86_400);
    expect(tokenLifetimeSeconds(3_600, 86_400)).toBe(3_540);
    expect(tokenLifetimeSeconds(null, 86_400)).toBe(86_400);
    expect(tokenLifetimeSeconds(60, 86_400)).toBe(30);
  });
});

describe('401 on a call', () => {
  it('invalidates the token, fetches a new one once and retries the request once', async () => {
    harness = createHarness('airalo');
    const h = harness;
    h.serveTokens('stale-token', 'fresh-token');
    h.reply('GET', '/balance', 401, fixture(airalo, 'order.401'));
    h.reply('GET', '/balance', 200, BALANCE);
    await expect(h.client.getBalance()).resolves.toEqual({ amount: '12.50', currency: 'USD' });
    const balanceCalls = h.requests.filter((r) => r.path === '/v2/balance');
    expect(balanceCalls.map((r) => r.headers.authorization)).toEqual(['Bearer stale-token', 'Bearer fresh-token']);
    expect(h.tokenRequests()).toHaveLength(2);
  });

  it('also retries a POST once after a 401 (a 401 means it was not processed)', async () => {
    harness = createHarness('airalo');
    const h = harness;
    h.serveTokens('stale-token', 'fresh-token');
    h.reply('POST', '/orders/topups', 401, fixture(airalo, 'order.401'));
    h.reply('POST', '/orders/topups', 200, fixture(airalo, 'submitTopup.200'));
    await expect(
      h.client.submitTopup({ iccid: '89340000000000872', packageId: 'bonbon-mobile-30days-3gb-topup' }),
    ).resolves.toMatchObject({ id: '174' });
    expect(h.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/orders/topups'))).toHaveLength(2);
  });

  it('gives up with UpstreamAuthError on a second 401, without a loop', async () => {
    harness = createHarness('airalo');
    const h = harness;
    h.serveTokens('token-1', 'token-2', 'token-3');
    h.reply('GET', '/balance', 401, fixture(airalo, 'order.401'));
    h.reply('GET', '/balance', 401, fixture(airalo, 'order.401'));
    const error = await h.client.getBalance().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamAuthError);
    expect(error).toMatchObject({ endpoint: 'balance', status: 401 });
    expect(h.requests.filter((r) => r.path === '/v2/balance')).toHaveLength(2);
    expect(h.tokenRequests()).toHaveLength(2);
  });

  it('does not refresh on 403 (IP not allow-listed): UpstreamAuthError at once', async () => {
    harness = createHarness('airalo');
    const h = harness;
    h.serveTokens();
    h.reply(
      'GET',
      '/balance',
      403,
      JSON.stringify({ code: 89, reason: 'Your IP address is not permitted to access this resource.' }),
    );
    await expect(h.client.getBalance()).rejects.toMatchObject({ name: 'UpstreamAuthError', status: 403 });
    expect(h.tokenRequests()).toHaveLength(1);
  });
});

describe('token endpoint failures', () => {
  it.each([
    ['unknown client id (422)', 422, 'token.422'],
    ['wrong secret (401)', 401, 'token.401'],
  ])('%s → UpstreamAuthError, remembered for 5 s so the endpoint is not hammered', async (_, status, key) => {
    harness = createHarness('airalo');
    const h = harness;
    h.reply('POST', '/token', status, fixture(airalo, key));
    const first = await h.client.getBalance().catch((e: unknown) => e);
    expect(first).toBeInstanceOf(UpstreamAuthError);
    expect(first).toMatchObject({ endpoint: 'token', status });
    expect((first as Error).message).not.toContain(CLIENT_SECRET);
    // Within the backoff: rejected without another token request (no interceptor is left to serve one).
    h.clock.advance(4_000);
    await expect(h.client.getBalance()).rejects.toBe(first);
    expect(h.tokenRequests()).toHaveLength(1);
    // After the backoff: tried again.
    h.clock.advance(1_000);
    h.serveTokens();
    h.reply('GET', '/balance', 200, BALANCE);
    await expect(h.client.getBalance()).resolves.toMatchObject({ amount: '12.50' });
  });

  it('reports a 5xx from the token endpoint as unavailable (not ambiguous) and is not retried', async () => {
    harness = createHarness('airalo');
    const h = harness;
    h.reply('POST', '/token', 503, '');
    const error = await h.client.getBalance().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamUnavailableError);
    expect(error).toMatchObject({ endpoint: 'token', status: 503, ambiguous: false });
  });

  it('backs off for Retry-After when the token endpoint itself answers 429', async () => {
    const clock = createManualClock();
    let calls = 0;
    const tokens = createTokenManager({
      clock,
      refreshSeconds: 86_400,
      fetchToken: async () => {
        calls += 1;
        throw new UpstreamRateLimitedError('token', 429, 20);
      },
    });
    await expect(tokens.get()).rejects.toBeInstanceOf(UpstreamRateLimitedError);
    clock.advance(19_000);
    await expect(tokens.get()).rejects.toBeInstanceOf(UpstreamRateLimitedError);
    expect(calls).toBe(1);
    clock.advance(1_000);
    await expect(tokens.get()).rejects.toBeInstanceOf(UpstreamRateLimitedError);
    expect(calls).toBe(2);
  });

  it('keeps a newer token when a stale one is invalidated late', async () => {
    const clock = createManualClock();
    const issued = ['a', 'b', 'c'];
    const tokens = createTokenManager({
      clock,
      refreshSeconds: 86_400,
      fetchToken: async () => ({ accessToken: issued.shift()!, expiresInSeconds: 3600 }),
    });
    expect(await tokens.get()).toBe('a');
    tokens.invalidate('a');
    expect(await tokens.get()).toBe('b');
    tokens.invalidate('a'); // a second caller that also saw a 401 with the old token
    expect(await tokens.get()).toBe('b');
  });
});
