/** transport.ts at the client's seam: how a call waits for the shared token, and what it leaves on the caller's signal. */
import { getEventListeners } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { abortWatcherCount } from '../../src/platform/abort.ts';
import { airalo, createHarness, fixture, type Harness, tokenBody } from './helpers.ts';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

describe('transport: a call and its caller’s signal', () => {
  it('a caller that gives up while the shared token is fetched gets its abort reason at once; the fetch goes on and serves the next call', async () => {
    const h = createHarness('airalo');
    harness = h;
    h.pool
      .intercept({ path: `${h.base}/token`, method: 'POST' })
      .reply(200, tokenBody(), { headers: { 'content-type': 'application/json' } })
      .delay(100);
    h.reply('GET', '/balance', 200, fixture(airalo, 'balance.200'));

    const controller = new AbortController();
    const abandoned = h.client.getBalance(controller.signal);
    const waiting = h.client.getBalance();
    const reason = new Error('client went away');
    controller.abort(reason);
    await expect(abandoned).rejects.toBe(reason);

    await expect(waiting).resolves.toEqual({ amount: '0.00', currency: 'USD' });
    expect(h.calls.map((c) => c.endpoint)).toEqual(['token', 'balance']);
  });

  it('leaves no listener on a long-lived signal once its calls have settled', async () => {
    const h = createHarness('airalo', { getRetries: 0 });
    harness = h;
    h.serveTokens();
    h.reply('GET', '/balance', 200, fixture(airalo, 'balance.200'));
    h.reply('GET', '/balance', 500, '{}');
    const request = new AbortController();
    await h.client.getBalance(request.signal);
    await expect(h.client.getBalance(request.signal)).rejects.toThrow();
    // Nothing waits on the signal any more, and it holds one listener however many calls it covered.
    await vi.waitFor(() => expect(abortWatcherCount(request.signal)).toBe(0));
    expect(getEventListeners(request.signal, 'abort').length).toBeLessThanOrEqual(1);
  });
});
