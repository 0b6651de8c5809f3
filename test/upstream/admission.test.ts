/**
 * The transport's admission seam (src/upstream/admission.ts): asked before every attempt — the token request, the
 * call, the resend after a 401, each GET retry — and told of every 429 before the caller is; a refusal sends nothing.
 */
import { describe, expect, it } from 'vitest';
import {
  CallNotAdmittedError,
  type UpstreamAdmission,
  type UpstreamAttempt,
  type UpstreamRateLimitedError,
} from '../../src/upstream/index.ts';
import { airalo, createHarness, fixture, stripDocComments } from './helpers.ts';

/** Records every question; answers as told (`refuse`: attempts to refuse; `retries`: admitRetry's answers). */
function recorder(options: {
  refuse?: (attempt: UpstreamAttempt) => boolean;
  retries?: (boolean | Promise<boolean>)[];
}) {
  const log: string[] = [];
  const admission: UpstreamAdmission = {
    admit(attempt) {
      log.push(`admit ${attempt.endpoint}${attempt.iccid ? ` ${attempt.iccid}` : ''}`);
      if (options.refuse?.(attempt)) throw new CallNotAdmittedError('refused in the test', 7);
    },
    admitRetry(attempt) {
      log.push(`retry ${attempt.endpoint}`);
      return options.retries?.shift() ?? true;
    },
    async rateLimited(attempt, error: UpstreamRateLimitedError) {
      await Promise.resolve();
      log.push(`429 ${attempt.endpoint} ${error.retryAfterSeconds}s limit=${error.limit}`);
    },
  };
  return { admission, log };
}

describe('the transport asks its admission', () => {
  it('before the token request, the call, and the resend after a 401; it hears of a 429 before the caller does', async () => {
    const { admission, log } = recorder({});
    const h = createHarness('airalo', { admission, getRetries: 0 });
    h.serveTokens('first', 'second');
    h.reply('GET', '/sims/89000000000000000001/usage', 401, '{"data":[],"meta":{"message":"Unauthorized"}}');
    h.reply('GET', '/sims/89000000000000000001/usage', 200, stripDocComments(fixture(airalo, 'usage.200')));
    await h.client.getUsage('89000000000000000001');
    h.reply('GET', '/balance', 429, '{"message":"Too Many Attempts."}', {
      'content-type': 'application/json',
      'retry-after': '30',
      'x-ratelimit-limit': '5',
    });
    const limited = h.client.getBalance().catch((error: unknown) => {
      log.push('caller hears');
      return error;
    });
    expect(await limited).toMatchObject({ name: 'UpstreamRateLimitedError', retryAfterSeconds: 30, limit: 5 });
    expect(log).toEqual([
      'admit token',
      'admit usage 89000000000000000001',
      'admit token', // the 401: a fresh token…
      'admit usage 89000000000000000001', // …and the same request once more
      'admit balance',
      '429 balance 30s limit=5',
      'caller hears',
    ]);
    await h.close();
  });

  it('sends nothing it refuses: the caller gets the CallNotAdmittedError, and the next call asks again', async () => {
    let refuseToken = true;
    const { admission } = recorder({ refuse: (a) => a.endpoint === 'token' && refuseToken });
    const h = createHarness('airalo', { admission, getRetries: 0 });
    h.serveTokens();
    h.reply('GET', '/balance', 200, fixture(airalo, 'balance.200'));
    await expect(h.client.getBalance()).rejects.toBeInstanceOf(CallNotAdmittedError);
    expect(h.requests).toHaveLength(0);
    refuseToken = false; // no failure backoff was remembered for the token endpoint
    await h.client.getBalance();
    expect(h.requests.map((r) => r.path)).toEqual(['/v2/token', '/v2/balance']);
    await h.close();
  });

  it('asks before each GET retry after a 5xx: refused → the 5xx is the answer, no second attempt', async () => {
    for (const answer of [false, Promise.resolve(false)]) {
      const { admission, log } = recorder({ retries: [answer] });
      const h = createHarness('airalo', { admission, getRetries: 2 });
      h.serveTokens();
      h.reply('GET', '/balance', 503, '');
      h.reply('GET', '/balance', 200, fixture(airalo, 'balance.200'));
      await expect(h.client.getBalance()).rejects.toMatchObject({ name: 'UpstreamUnavailableError' });
      expect(h.requests.filter((r) => r.path === '/v2/balance')).toHaveLength(1);
      expect(log).toEqual(['admit token', 'admit balance', 'retry balance']);
      await h.close();
    }
  });

  it('asks before each GET retry after a 5xx: admitted (at once or later) → the retry is sent', async () => {
    const { admission, log } = recorder({ retries: [Promise.resolve(true)] });
    const h = createHarness('airalo', { admission, getRetries: 2 });
    h.serveTokens();
    h.reply('GET', '/balance', 503, '');
    h.reply('GET', '/balance', 200, fixture(airalo, 'balance.200'));
    await h.client.getBalance();
    expect(h.requests.filter((r) => r.path === '/v2/balance')).toHaveLength(2);
    expect(log).toEqual(['admit token', 'admit balance', 'retry balance']);
    await h.close();
  });
});
