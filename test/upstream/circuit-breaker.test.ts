/**
 * The circuit breaker: the state machine on its own (manual clock), then wired into the client against MockAgent —
 * which failures open it, that an open breaker sends nothing (token request included), and recovery after the
 * cool-down.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/platform/clock.ts';
import { type BreakerState, CircuitBreaker, type Permit } from '../../src/upstream/circuit-breaker.ts';
import { CircuitOpenError, type UpstreamClientOptions, UpstreamUnavailableError } from '../../src/upstream/index.ts';
import { airalo, createHarness, fixture, type Harness, stripDocComments, tokenBody } from './helpers.ts';

function breakerWithLog(options: ConstructorParameters<typeof CircuitBreaker>[1] = {}) {
  const clock = createManualClock();
  const transitions: BreakerState[] = [];
  const breaker = new CircuitBreaker(clock, options, (state) => transitions.push(state));
  const run = (outcome: keyof Permit) => {
    const permit = breaker.tryAcquire();
    if (!permit) throw new Error('refused');
    permit[outcome]();
  };
  return { clock, breaker, transitions, run };
}

describe('CircuitBreaker state machine', () => {
  it('opens after 5 consecutive failures, and a success in between resets the streak', () => {
    const { breaker, transitions, run } = breakerWithLog();
    for (let i = 0; i < 4; i++) run('failure');
    run('success');
    for (let i = 0; i < 4; i++) run('failure');
    expect(breaker.state()).toBe('closed');
    run('failure');
    expect(breaker.state()).toBe('open');
    expect(transitions).toEqual(['open']);
    expect(breaker.tryAcquire()).toBeNull();
  });

  it('opens when ≥ 50 % of at least 10 calls in the window failed, never below 10 calls', () => {
    const { breaker, run } = breakerWithLog();
    // success, failure, … : never two failures in a row.
    for (let i = 0; i < 9; i++) run(i % 2 === 0 ? 'success' : 'failure');
    expect(breaker.state()).toBe('closed'); // 4 of 9
    run('failure'); // 5 of 10
    expect(breaker.state()).toBe('open');
  });

  it('stays closed at a failure rate just under the threshold', () => {
    const { breaker, run } = breakerWithLog();
    for (let i = 0; i < 100; i++) run(i % 3 === 0 ? 'failure' : 'success'); // 34 %
    expect(breaker.state()).toBe('closed');
  });

  it('forgets failures older than the rolling window', () => {
    const { breaker, clock, run } = breakerWithLog({ windowMs: 60_000 });
    for (let i = 0; i < 9; i++) run(i % 2 === 0 ? 'failure' : 'success'); // 5 failures of 9
    clock.advance(61_000);
    run('failure'); // alone in a fresh window: 1 of 1, below minimumCalls
    expect(breaker.state()).toBe('closed');
  });

  it('counts abandoned calls as nothing', () => {
    const { breaker, run } = breakerWithLog();
    for (let i = 0; i < 4; i++) run('failure');
    for (let i = 0; i < 50; i++) run('release');
    expect(breaker.state()).toBe('closed');
    run('failure');
    expect(breaker.state()).toBe('open');
  });

  it('goes half-open after the cool-down and lets exactly one probe through; its success closes', () => {
    const { breaker, clock, transitions, run } = breakerWithLog({ coolDownMs: 30_000 });
    for (let i = 0; i < 5; i++) run('failure');
    clock.advance(29_999);
    expect(breaker.state()).toBe('open');
    expect(breaker.tryAcquire()).toBeNull();
    clock.advance(1);
    expect(breaker.state()).toBe('half-open');
    const probe = breaker.tryAcquire()!;
    expect(probe).not.toBeNull();
    expect(breaker.tryAcquire()).toBeNull(); // one probe at a time
    probe.success();
    expect(breaker.state()).toBe('closed');
    expect(transitions).toEqual(['open', 'half-open', 'closed']);
    // A fresh start: it takes a full streak again to open.
    for (let i = 0; i < 4; i++) run('failure');
    expect(breaker.state()).toBe('closed');
  });

  it('re-opens for another cool-down when the probe fails', () => {
    const { breaker, clock, transitions, run } = breakerWithLog({ coolDownMs: 1_000 });
    for (let i = 0; i < 5; i++) run('failure');
    clock.advance(1_000);
    breaker.tryAcquire()!.failure();
    expect(breaker.state()).toBe('open');
    clock.advance(999);
    expect(breaker.tryAcquire()).toBeNull();
    clock.advance(1);
    expect(breaker.state()).toBe('half-open');
    expect(transitions).toEqual(['open', 'half-open', 'open', 'half-open']);
  });

  it('an abandoned probe leaves it half-open and the next call probes', () => {
    const { breaker, clock, run } = breakerWithLog({ coolDownMs: 10 });
    for (let i = 0; i < 5; i++) run('failure');
    clock.advance(10);
    breaker.tryAcquire()!.release();
    expect(breaker.state()).toBe('half-open');
    run('success');
    expect(breaker.state()).toBe('closed');
  });

  it('ignores late outcomes of calls admitted before it opened, and settles a permit once', () => {
    const { breaker, clock, run } = breakerWithLog({ coolDownMs: 10 });
    const late = breaker.tryAcquire()!;
    for (let i = 0; i < 5; i++) run('failure');
    late.success();
    expect(breaker.state()).toBe('open');
    clock.advance(10);
    const probe = breaker.tryAcquire()!;
    probe.failure();
    probe.success(); // ignored
    expect(breaker.state()).toBe('open');
  });

  it('takes its thresholds as options and rejects nonsense', () => {
    const { breaker, run } = breakerWithLog({ consecutiveFailures: 2 });
    run('failure');
    run('failure');
    expect(breaker.state()).toBe('open');
    expect(() => new CircuitBreaker(createManualClock(), { failureRateThreshold: 0 })).toThrow(RangeError);
    expect(() => new CircuitBreaker(createManualClock(), { minimumCalls: 0 })).toThrow(RangeError);
  });
});

const ICCID = '8910300000005271146';
const BALANCE = JSON.stringify({
  data: { balances: { name: 'balance', availableBalance: { amount: '7.10', currency: 'EUR' } } },
  meta: { message: 'success' },
});
const USAGE = stripDocComments(fixture(airalo, 'usage.200'));

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

function setup(options: Partial<UpstreamClientOptions> = {}) {
  const transitions: BreakerState[] = [];
  harness = createHarness('airalo', { getRetries: 0, onBreakerStateChange: (s) => transitions.push(s), ...options });
  harness.serveTokens();
  return { h: harness, transitions };
}

const balanceCalls = (h: Harness) => h.requests.filter((r) => r.path === '/v2/balance').length;
const networkError = (code: string) => Object.assign(new Error(`simulated ${code}`), { code });

describe('client with a circuit breaker', () => {
  it('opens on sustained 503s, then fails fast with a non-ambiguous "circuit open" error and sends nothing', async () => {
    const { h, transitions } = setup();
    for (let i = 0; i < 5; i++) h.reply('GET', '/balance', 503, '{"message":"Service Unavailable"}');
    for (let i = 0; i < 5; i++)
      await expect(h.client.getBalance()).rejects.toMatchObject({ name: 'UpstreamUnavailableError', status: 503 });
    expect(h.client.breakerState()).toBe('open');
    expect(transitions).toEqual(['open']);

    const sent = h.requests.length;
    const error = await h.client.getUsage(ICCID).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CircuitOpenError);
    expect(error).toBeInstanceOf(UpstreamUnavailableError);
    expect(error).toMatchObject({ endpoint: 'usage', status: null, ambiguous: false });
    // A POST refused by the breaker was never sent, so it is not ambiguous either.
    const refused = await h.client
      .submitTopup({ iccid: ICCID, packageId: 'p', description: 'd' })
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(CircuitOpenError);
    expect(refused).toMatchObject({ endpoint: 'submitTopup', ambiguous: false });
    expect(h.requests.length).toBe(sent);
  });

  it('lets one probe through after the cool-down (on the injected clock) and closes on its success', async () => {
    const { h, transitions } = setup({ circuitBreaker: { coolDownMs: 30_000 } });
    for (let i = 0; i < 5; i++)
      h.reply('GET', '/balance', 502, '<html>bad gateway</html>', { 'content-type': 'text/html' });
    for (let i = 0; i < 5; i++) await h.client.getBalance().catch(() => undefined);
    h.clock.advance(29_000);
    await expect(h.client.getBalance()).rejects.toBeInstanceOf(CircuitOpenError);
    expect(balanceCalls(h)).toBe(5);

    h.clock.advance(1_000);
    expect(h.client.breakerState()).toBe('half-open');
    h.reply('GET', '/balance', 200, BALANCE);
    await expect(h.client.getBalance()).resolves.toEqual({ amount: '7.10', currency: 'EUR' });
    expect(h.client.breakerState()).toBe('closed');
    expect(transitions).toEqual(['open', 'half-open', 'closed']);
    expect(balanceCalls(h)).toBe(6);
  });

  it('re-opens when the probe fails', async () => {
    const { h, transitions } = setup({ circuitBreaker: { coolDownMs: 1_000 } });
    for (let i = 0; i < 6; i++) h.reply('GET', '/balance', 504, '');
    for (let i = 0; i < 5; i++) await h.client.getBalance().catch(() => undefined);
    h.clock.advance(1_000);
    await expect(h.client.getBalance()).rejects.toMatchObject({ status: 504 });
    expect(h.client.breakerState()).toBe('open');
    await expect(h.client.getBalance()).rejects.toBeInstanceOf(CircuitOpenError);
    expect(balanceCalls(h)).toBe(6);
    expect(transitions).toEqual(['open', 'half-open', 'open']);
  });

  it('counts network errors and timeouts-like transport failures', async () => {
    const { h } = setup();
    for (let i = 0; i < 5; i++)
      h.pool.intercept({ path: `/v2/sims/${ICCID}/usage`, method: 'GET' }).replyWithError(networkError('ECONNRESET'));
    for (let i = 0; i < 5; i++) await expect(h.client.getUsage(ICCID)).rejects.toBeInstanceOf(UpstreamUnavailableError);
    expect(h.client.breakerState()).toBe('open');
  });

  it.each([
    [404, '{"data":[],"meta":{"message":"messages.resource_not_found"}}', {}],
    [422, '{"code":73,"reason":"The eSIM has been recycled."}', {}],
    [422, '{"data":{"iccid":"The iccid field is required."},"meta":{"message":"the parameter is invalid"}}', {}],
    [429, '{"message":"Too Many Attempts."}', { 'retry-after': '60' }],
    [403, '{"code":89,"reason":"Your IP address is not permitted"}', {}],
  ])('never counts a %i as a failure, however many', async (status, body, headers) => {
    const { h, transitions } = setup();
    for (let i = 0; i < 30; i++)
      h.reply('GET', `/sims/${ICCID}/topups`, status, body, { 'content-type': 'application/json', ...headers });
    for (let i = 0; i < 30; i++)
      await expect(h.client.getTopups(ICCID)).rejects.not.toBeInstanceOf(UpstreamUnavailableError);
    expect(h.client.breakerState()).toBe('closed');
    expect(transitions).toEqual([]);
  });

  it('never counts a 401 (refreshed or final) as a failure', async () => {
    const { h } = setup();
    for (let i = 0; i < 20; i++) h.reply('GET', '/balance', 401, fixture(airalo, 'order.401'));
    for (let i = 0; i < 10; i++)
      await expect(h.client.getBalance()).rejects.toMatchObject({ name: 'UpstreamAuthError' });
    expect(h.client.breakerState()).toBe('closed');
  });

  it('a 2xx with a malformed body comes from a live upstream: not a failure', async () => {
    const { h } = setup();
    for (let i = 0; i < 10; i++) h.reply('GET', `/sims/${ICCID}/usage`, 200, USAGE.slice(0, 40));
    for (let i = 0; i < 10; i++)
      await expect(h.client.getUsage(ICCID)).rejects.toMatchObject({ name: 'UpstreamBadResponseError' });
    expect(h.client.breakerState()).toBe('closed');
  });

  it('puts the token endpoint behind it too: its 5xx count, and an open breaker sends no token request', async () => {
    harness = createHarness('airalo', { getRetries: 0 });
    const h = harness;
    for (let i = 0; i < 5; i++) h.reply('POST', '/token', 503, '');
    for (let i = 0; i < 5; i++) {
      await expect(h.client.getBalance()).rejects.toMatchObject({
        name: 'UpstreamUnavailableError',
        endpoint: 'token',
      });
      h.clock.advance(5_000); // past the token manager's own failure backoff
    }
    expect(h.client.breakerState()).toBe('open');
    expect(h.tokenRequests()).toHaveLength(5);
    await expect(h.client.getBalance()).rejects.toSatisfy(
      (e) => e instanceof CircuitOpenError && e.endpoint === 'balance',
    );
    expect(h.tokenRequests()).toHaveLength(5);

    // After the cool-down the token request is the probe; nothing holds it back.
    h.clock.advance(30_000);
    h.pool.intercept({ path: '/v2/token', method: 'POST' }).reply(200, tokenBody());
    h.reply('GET', '/balance', 200, BALANCE);
    await expect(h.client.getBalance()).resolves.toEqual({ amount: '7.10', currency: 'EUR' });
    expect(h.client.breakerState()).toBe('closed');
  });
});
