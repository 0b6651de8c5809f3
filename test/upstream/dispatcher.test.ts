import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MockAgent } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/platform/clock.ts';
import { createUpstreamDispatcher, interceptorOrder, requestText } from '../../src/upstream/dispatcher.ts';
import { createEndpointResolver } from '../../src/upstream/flavours.ts';
import { createUpstreamClient, UpstreamRateLimitedError, UpstreamUnavailableError } from '../../src/upstream/index.ts';
import { airalo, createHarness, fixture, type Harness, ORIGIN, stripDocComments } from './helpers.ts';

const ICCID = '8910300000005271146';
const BALANCE = JSON.stringify({
  data: { balances: { name: 'balance', availableBalance: { amount: '7.10', currency: 'EUR' } } },
  meta: { message: 'success' },
});
const USAGE = stripDocComments(fixture(airalo, 'usage.200'));

let harness: Harness | undefined;
afterEach(async () => {
  harness?.agent.assertNoPendingInterceptors();
  await harness?.close();
  harness = undefined;
});

function setup(options: Parameters<typeof createHarness>[1] = {}): Harness {
  harness = createHarness('airalo', options);
  harness.serveTokens();
  return harness;
}

const networkError = (code: string) => Object.assign(new Error(`simulated ${code}`), { code });
const posts = (h: Harness) => h.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/orders/topups'));
const balanceCalls = (h: Harness) => h.requests.filter((r) => r.path === '/v2/balance');

describe('GET retry policy', () => {
  it('retries a GET after 503s and succeeds on the third attempt', async () => {
    const h = setup();
    h.reply('GET', '/balance', 503, '<html>busy</html>', { 'content-type': 'text/html' });
    h.reply('GET', '/balance', 503, '');
    h.reply('GET', '/balance', 200, BALANCE);
    await expect(h.client.getBalance()).resolves.toEqual({ amount: '7.10', currency: 'EUR' });
    expect(balanceCalls(h)).toHaveLength(3);
    // The hook sees one logical call with the final status.
    expect(h.calls.filter((c) => c.endpoint === 'balance')).toEqual([expect.objectContaining({ status: 200 })]);
  });

  it('stops after 3 attempts and reports the last 5xx as unavailable (not ambiguous for a GET)', async () => {
    const h = setup();
    for (const status of [500, 502, 504]) h.reply('GET', '/balance', status, '');
    const error = await h.client.getBalance().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamUnavailableError);
    expect(error).toMatchObject({ endpoint: 'balance', status: 504, ambiguous: false });
    expect(balanceCalls(h)).toHaveLength(3);
  });

  it('retries a GET after a connection reset', async () => {
    const h = setup();
    h.pool.intercept({ path: `/v2/sims/${ICCID}/usage`, method: 'GET' }).replyWithError(networkError('ECONNRESET'));
    h.reply('GET', `/sims/${ICCID}/usage`, 200, USAGE);
    await expect(h.client.getUsage(ICCID)).resolves.toMatchObject({ status: 'ACTIVE' });
  });

  it('honours getRetries: 0', async () => {
    const h = setup({ getRetries: 0 });
    h.reply('GET', '/balance', 503, '');
    await expect(h.client.getBalance()).rejects.toMatchObject({ name: 'UpstreamUnavailableError', status: 503 });
    expect(balanceCalls(h)).toHaveLength(1);
  });

  it.each([
    [429, 'UpstreamRateLimitedError'],
    [404, 'UpstreamNotFoundError'],
    [422, 'UpstreamValidationError'],
  ])('never retries a %i', async (status, name) => {
    const h = setup();
    h.reply(
      'GET',
      '/balance',
      status,
      status === 429 ? fixture(airalo, 'usage.429') : '{"data":{},"meta":{"message":"x"}}',
      { 'retry-after': '1' },
    );
    await expect(h.client.getBalance()).rejects.toMatchObject({ name });
    expect(balanceCalls(h)).toHaveLength(1);
  });

  it('rate limits are reported, not waited out, even when Retry-After is long', async () => {
    const h = setup();
    h.reply('GET', `/sims/${ICCID}/usage`, 429, fixture(airalo, 'usage.429'), { 'retry-after': '120' });
    const started = Date.now();
    const error = await h.client.getUsage(ICCID).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamRateLimitedError);
    expect((error as UpstreamRateLimitedError).retryAfterSeconds).toBe(120);
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});

describe('POST is never retried', () => {
  const submit = (h: Harness) =>
    h.client.submitTopup({ iccid: ICCID, packageId: 'bonbon-mobile-30days-3gb-topup', description: 'gw-1' });

  it('a 502 on submit → ambiguous UpstreamUnavailableError after exactly one POST', async () => {
    const h = setup();
    h.reply('POST', '/orders/topups', 502, '<html>bad gateway</html>', { 'content-type': 'text/html' });
    const error = await submit(h).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamUnavailableError);
    expect(error).toMatchObject({ endpoint: 'submitTopup', status: 502, ambiguous: true });
    expect(posts(h)).toHaveLength(1);
  });

  it('a reset after sending → ambiguous', async () => {
    const h = setup();
    h.pool.intercept({ path: '/v2/orders/topups', method: 'POST' }).replyWithError(networkError('ECONNRESET'));
    await expect(submit(h)).rejects.toMatchObject({ name: 'UpstreamUnavailableError', status: null, ambiguous: true });
  });

  it('a refused connection (nothing sent) → not ambiguous', async () => {
    const h = setup();
    h.pool.intercept({ path: '/v2/orders/topups', method: 'POST' }).replyWithError(networkError('ECONNREFUSED'));
    await expect(submit(h)).rejects.toMatchObject({ name: 'UpstreamUnavailableError', ambiguous: false });
  });

  it('a 429 on submit is reported once', async () => {
    const h = setup();
    h.reply('POST', '/orders/topups', 429, '{"message":"Too Many Attempts."}', { 'retry-after': '30' });
    await expect(submit(h)).rejects.toMatchObject({ name: 'UpstreamRateLimitedError', retryAfterSeconds: 30 });
    expect(posts(h)).toHaveLength(1);
  });
});

describe('interceptor order', () => {
  it('is pinned: retry innermost (sees raw 5xx), the guard around all attempts, error conversion outermost', () => {
    expect(interceptorOrder).toEqual(['getRetry', 'responseGuard', 'errorConversion']);
  });

  it('lets the retry see raw statuses: a 503 reaches error conversion only when it is final', async () => {
    const agent = new MockAgent();
    agent.disableNetConnect();
    const pool = agent.get(ORIGIN);
    pool.intercept({ path: '/v2/balance', method: 'GET' }).reply(503, '');
    pool.intercept({ path: '/v2/balance', method: 'GET' }).reply(200, 'ok');
    const upstream = createUpstreamDispatcher({
      origin: ORIGIN,
      connections: 1,
      timeouts: { connectMs: 1000, headersMs: 1000, bodyMs: 1000 },
      maxResponseBytes: 1024,
      callDeadlineMs: 3000,
      getRetries: 1,
      retryBaseDelayMs: 1,
      clock: createManualClock(),
      dispatcher: agent,
    });
    const response = await upstream.dispatcher.request({ origin: ORIGIN, path: '/v2/balance', method: 'GET' });
    expect(response.statusCode).toBe(200);
    expect(await response.body.text()).toBe('ok');
    agent.assertNoPendingInterceptors();
    await agent.close();
  });
});

describe('requestText', () => {
  it('reads what request() + body.text() read: chunked bodies, a multi-byte character split across chunks, a BOM, a retried attempt', async () => {
    const answers: Record<string, (res: import('node:http').ServerResponse) => void> = {
      '/chunks': (res) => {
        const bytes = Buffer.from('{"name":"Zürich ✓ ☃","n":1}');
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write(bytes.subarray(0, 11)); // inside the two bytes of "ü"
        setTimeout(() => {
          res.write(bytes.subarray(11, 20));
          setTimeout(() => res.end(bytes.subarray(20)), 5);
        }, 5);
      },
      '/bom': (res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"a":1}')]));
      },
      '/empty': (res) => {
        res.writeHead(204);
        res.end();
      },
    };
    let flaky = 0;
    const server = createServer((req, res) => {
      if (req.url === '/flaky' && flaky++ === 0) {
        res.writeHead(503, { 'content-type': 'text/plain' });
        res.end('busy, busy, busy');
        return;
      }
      if (req.url === '/flaky') return void res.end('second');
      answers[req.url!]!(res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const make = () =>
      createUpstreamDispatcher({
        origin,
        connections: 2,
        timeouts: { connectMs: 1000, headersMs: 1000, bodyMs: 1000 },
        maxResponseBytes: 1024,
        callDeadlineMs: 3000,
        getRetries: 1,
        retryBaseDelayMs: 1,
        clock: createManualClock(),
      });
    const upstream = make();
    try {
      for (const path of ['/chunks', '/bom', '/empty', '/flaky']) {
        flaky = 0;
        const viaRequest = await upstream.dispatcher.request({ origin, path, method: 'GET' });
        const expected = { statusCode: viaRequest.statusCode, text: await viaRequest.body.text() };
        flaky = 0;
        expect(await requestText(upstream.dispatcher, { origin, path, method: 'GET' }), path).toEqual(expected);
      }
      expect((await requestText(upstream.dispatcher, { origin, path: '/chunks', method: 'GET' })).text).toBe(
        '{"name":"Zürich ✓ ☃","n":1}',
      );
    } finally {
      await upstream.close();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('rejects at once for an aborted signal, and aborts the exchange when the signal fires mid-body', async () => {
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"slow":');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const upstream = createUpstreamDispatcher({
      origin,
      connections: 1,
      timeouts: { connectMs: 1000, headersMs: 5000, bodyMs: 5000 },
      maxResponseBytes: 1024,
      callDeadlineMs: 10_000,
      getRetries: 0,
      retryBaseDelayMs: 1,
      clock: createManualClock(),
    });
    try {
      const aborted = AbortSignal.abort(new Error('gone before'));
      await expect(requestText(upstream.dispatcher, { origin, path: '/', method: 'GET' }, aborted)).rejects.toThrow(
        'gone before',
      );
      const controller = new AbortController();
      const pending = requestText(upstream.dispatcher, { origin, path: '/', method: 'GET' }, controller.signal);
      setTimeout(() => controller.abort(new Error('gone mid-body')), 50);
      const started = performance.now();
      const error = await pending.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UpstreamUnavailableError); // the interceptors' error; the caller checks its signal
      expect(performance.now() - started).toBeLessThan(2_000);
    } finally {
      server.closeAllConnections();
      await upstream.close();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('cancellation', () => {
  it("rejects with the caller's abort reason while the request is in flight", async () => {
    const h = setup();
    h.pool.intercept({ path: '/v2/balance', method: 'GET' }).reply(200, BALANCE).delay(5_000);
    const controller = new AbortController();
    const pending = h.client.getBalance(controller.signal);
    setTimeout(() => controller.abort(new Error('client went away')), 20);
    await expect(pending).rejects.toThrow('client went away');
  });

  it('stops waiting between GET attempts when the caller aborts', async () => {
    const h = setup({ getRetries: 2 });
    h.reply('GET', '/balance', 503, '');
    const controller = new AbortController();
    const pending = h.client.getBalance(controller.signal);
    setTimeout(() => controller.abort(new Error('client went away')), 10);
    await expect(pending).rejects.toThrow('client went away');
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(balanceCalls(h)).toHaveLength(1);
  });

  it('does not call the upstream for an already aborted signal', async () => {
    harness = createHarness('airalo');
    const h = harness;
    const controller = new AbortController();
    controller.abort();
    await expect(h.client.getBalance(controller.signal)).rejects.toMatchObject({ name: 'AbortError' });
    expect(h.requests).toHaveLength(0);
  });
});

describe('paths and flavours', () => {
  it('lets an operator override a path with the documented /cusomter/v2 typo (absolute URL on the same origin)', async () => {
    harness = createHarness('pressone', { paths: { usage: `${ORIGIN}/cusomter/v2/sims/{iccid}/usage` } });
    const h = harness;
    h.serveTokens();
    h.pool.intercept({ path: `/cusomter/v2/sims/${ICCID}/usage`, method: 'GET' }).reply(200, USAGE);
    await expect(h.client.getUsage(ICCID)).resolves.toMatchObject({ status: 'ACTIVE' });
  });

  it('resolves relative overrides against the base path', async () => {
    harness = createHarness('pressone', { paths: { packages: 'esims/{iccid}/history' } });
    const h = harness;
    h.serveTokens();
    h.pool.intercept({ path: `/customer/v2/esims/${ICCID}/history`, method: 'GET' }).reply(200, '{"data":[]}');
    await expect(h.client.getPackageHistory(ICCID)).resolves.toEqual([]);
  });

  it('fills in the flavour base path for a bare origin and tolerates a trailing slash', () => {
    expect(createEndpointResolver('https://x.test', 'pressone').path('usage', { iccid: '1' })).toBe(
      '/customer/v2/sims/1/usage',
    );
    expect(createEndpointResolver('https://x.test/', 'airalo').path('order', { id: '9' }, { include: 'sims' })).toBe(
      '/v2/orders/9?include=sims',
    );
    expect(createEndpointResolver('https://x.test/v2/', 'airalo').path('submitTopup')).toBe('/v2/orders/topups');
    expect(createEndpointResolver('http://127.0.0.1:4010/customer/v2', 'pressone').origin).toBe(
      'http://127.0.0.1:4010',
    );
  });

  it('rejects an override that leaves the origin (one Pool per origin)', () => {
    expect(() =>
      createUpstreamClient({
        baseUrl: `${ORIGIN}/v2`,
        flavour: 'airalo',
        clientId: 'a',
        clientSecret: 'b',
        paths: { usage: 'https://elsewhere.test/v2/sims/{iccid}/usage' },
      }),
    ).toThrow(/must stay on/);
  });
});
