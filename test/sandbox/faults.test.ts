import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { type Harness, startHarness, TOKEN_FIELDS } from './helpers.ts';

let h: Harness;
afterEach(() => h.sandbox.close());

describe('fault injection', () => {
  it('adds fixed and jittered latency', async () => {
    h = await startHarness({ faults: [{ endpoint: 'balance', latencyMs: 80 }] });
    let started = performance.now();
    expect((await h.get('/v2/balance')).status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(75);
    h.sandbox.control.clearFaults();
    h.sandbox.control.addFault({ endpoint: 'balance', latencyMs: 10, jitterMs: 40 });
    started = performance.now();
    await h.get('/v2/balance');
    expect(performance.now() - started).toBeGreaterThanOrEqual(9);
    // Other endpoints are not slowed: with balance delayed by 500 ms, a list read answers well before that.
    h.sandbox.control.clearFaults();
    h.sandbox.control.addFault({ endpoint: 'balance', latencyMs: 500 });
    started = performance.now();
    await h.get('/v2/sims?limit=1');
    expect(performance.now() - started).toBeLessThan(250);
  });

  it('incompleteBody: the processed answer with its status, valid JSON, data without id and code (the order is placed)', async () => {
    h = await startHarness();
    const iccid = h.sandbox.control.iccids({ status: 'ACTIVE', hasTopups: true })[0]!;
    const packageId = h.sandbox.control
      .topupPackageIds(iccid)
      .find((id) => !/insufficient|maintenance|disabled|out-of-stock/.test(id))!;
    h.sandbox.control.addFault({ endpoint: 'submitTopup', incompleteBody: true, times: 1 });
    const res = await h.post('/v2/orders/topups', { iccid, package_id: packageId });
    expect(res.status).toBe(200);
    expect(res.json.data.package_id).toBe(packageId);
    expect(res.json.data).not.toHaveProperty('id');
    expect(res.json.data).not.toHaveProperty('code');
    expect(h.sandbox.control.orders()).toHaveLength(1);
  });

  it('rejectWith: answers that 4xx and body instead of processing (or after it, with afterProcessing); only 4xx accepted', async () => {
    h = await startHarness();
    const iccid = h.sandbox.control.iccids({ status: 'ACTIVE', hasTopups: true })[0]!;
    const packageId = h.sandbox.control
      .topupPackageIds(iccid)
      .find((id) => !/insufficient|maintenance|disabled|out-of-stock/.test(id))!;
    const body = { data: { description: 'The description may not be greater than 255 characters.' } };
    h.sandbox.control.addFault({ endpoint: 'submitTopup', rejectWith: { status: 422, body }, times: 1 });
    const refused = await h.post('/v2/orders/topups', { iccid, package_id: packageId });
    expect(refused.status).toBe(422);
    expect(refused.json).toEqual(body);
    expect(h.sandbox.control.orders()).toHaveLength(0);
    h.sandbox.control.addFault({
      endpoint: 'submitTopup',
      rejectWith: { status: 409, body: {} },
      afterProcessing: true,
      times: 1,
    });
    expect((await h.post('/v2/orders/topups', { iccid, package_id: packageId })).status).toBe(409);
    expect(h.sandbox.control.orders()).toHaveLength(1);
    expect(() => h.sandbox.control.addFault({ rejectWith: { status: 500, body: {} } })).toThrow(/4xx/);
  });

  it.each([500, 502, 503, 504] as const)('answers %i, and counts it', async (status) => {
    h = await startHarness();
    h.sandbox.control.addFault({ endpoint: 'usage', errorStatus: status });
    const iccid = h.sandbox.control.iccids()[0]!;
    const res = await h.get(`/v2/sims/${iccid}/usage`);
    expect(res.status).toBe(status);
    expect(h.sandbox.control.countCalls({ endpoint: 'usage', iccid, status })).toBe(1);
    expect((await h.get('/v2/balance')).status).toBe(200);
  });

  it('applies an error rate deterministically from the seed', async () => {
    const run = async () => {
      h = await startHarness({ faults: [{ endpoint: 'balance', errorStatus: 503, errorRate: 0.5 }] });
      const statuses: number[] = [];
      for (let i = 0; i < 40; i++) statuses.push((await h.get('/v2/balance')).status);
      await h.sandbox.close();
      return statuses;
    };
    const first = await run();
    const second = await run();
    expect(first).toEqual(second);
    const errors = first.filter((s) => s === 503).length;
    expect(errors).toBeGreaterThan(8);
    expect(errors).toBeLessThan(32);
    h = await startHarness();
  });

  it('hangs without answering, recorded as status 0', async () => {
    h = await startHarness();
    const iccid = h.sandbox.control.iccids()[0]!;
    h.sandbox.control.addFault({ endpoint: 'usage', iccid, hang: true });
    await expect(
      fetch(`${h.sandbox.url}/v2/sims/${iccid}/usage`, {
        headers: { authorization: `Bearer ${h.token}` },
        signal: AbortSignal.timeout(150),
      }),
    ).rejects.toThrow();
    expect(h.sandbox.control.countCalls({ endpoint: 'usage', iccid, status: 0 })).toBe(1);
    const other = h.sandbox.control.iccids()[1]!;
    expect((await h.get(`/v2/sims/${other}/usage`)).status).toBe(200); // scoped to one ICCID
  });

  it('resets the connection after the headers or in the middle of the body', async () => {
    h = await startHarness();
    h.sandbox.control.addFault({ endpoint: 'sims', reset: 'after-headers', times: 1 });
    const headersOnly = await request(`${h.sandbox.url}/v2/sims`, { headers: { authorization: `Bearer ${h.token}` } });
    expect(headersOnly.statusCode).toBe(200);
    await expect(headersOnly.body.text()).rejects.toThrow();

    h.sandbox.control.addFault({ endpoint: 'sims', reset: 'mid-body', times: 1 });
    const half = await request(`${h.sandbox.url}/v2/sims`, { headers: { authorization: `Bearer ${h.token}` } });
    await expect(half.body.text()).rejects.toThrow();
    expect(h.sandbox.control.countCalls({ endpoint: 'sims', status: 0 })).toBe(2);
    expect((await h.get('/v2/sims')).status).toBe(200); // `times` used up
  });

  it('pads an answer to an oversize body (still valid JSON), with Content-Length or chunked', async () => {
    h = await startHarness();
    h.sandbox.control.addFault({ endpoint: 'balance', oversizeBody: { bytes: 300_000 }, times: 1 });
    const sized = await h.get('/v2/balance');
    expect(sized.headers.get('content-length')).toBe('300000');
    expect(sized.text).toHaveLength(300_000);
    expect(JSON.parse(sized.text).data.balances.name).toBe('balance');
    h.sandbox.control.addFault({ endpoint: 'balance', oversizeBody: { bytes: 200_000, chunked: true }, times: 1 });
    const chunked = await h.get('/v2/balance');
    expect(chunked.headers.get('content-length')).toBeNull();
    expect(chunked.text).toHaveLength(200_000);
    expect(() => h.sandbox.control.addFault({ oversizeBody: { bytes: 0 } })).toThrow('oversizeBody.bytes');
  });

  it('trickles an answer a few bytes per tick, and answers an empty balances list', async () => {
    h = await startHarness();
    h.sandbox.control.addFault({ endpoint: 'balance', trickleBody: { intervalMs: 5, bytesPerTick: 20 }, times: 1 });
    const started = performance.now();
    const slow = await h.get('/v2/balance');
    expect(JSON.parse(slow.text).data.balances.name).toBe('balance');
    expect(performance.now() - started).toBeGreaterThanOrEqual(5 * Math.floor(slow.text.length / 20));
    expect(() => h.sandbox.control.addFault({ trickleBody: { intervalMs: 0 } })).toThrow('trickleBody');
    h.sandbox.control.addFault({ endpoint: 'balance', emptyBalances: true, times: 1 });
    expect((await h.get('/v2/balance')).json.data.balances).toEqual([]);
  });

  it('sends malformed JSON with the real status', async () => {
    h = await startHarness({ faults: [{ endpoint: 'balance', malformedJson: true, times: 2 }] });
    const res = await h.get('/customer/v2/balance');
    expect(res.status).toBe(200);
    expect(() => JSON.parse(res.text)).toThrow();
    expect((await h.get('/v2/balance')).json).toBeUndefined();
    expect((await h.get('/v2/balance')).json.data.balances.name).toBe('balance');
  });

  it('forces a 429 with Retry-After in seconds or as an HTTP-date', async () => {
    h = await startHarness();
    const seconds = h.sandbox.control.addFault({ endpoint: 'topups', rateLimit: { retryAfterSeconds: 30 } });
    const iccid = h.sandbox.control.iccids()[0]!;
    let res = await h.get(`/v2/sims/${iccid}/topups`);
    expect(res.status).toBe(429);
    expect(res.json).toEqual({ message: 'Too Many Attempts.' });
    expect(res.headers.get('retry-after')).toBe('30');
    h.sandbox.control.removeFault(seconds);
    h.sandbox.control.addFault({ endpoint: 'topups', rateLimit: { retryAfterSeconds: 90, asHttpDate: true } });
    res = await h.get(`/v2/sims/${iccid}/topups`);
    expect(res.headers.get('retry-after')).toBe(new Date(h.clock.now() + 90_000).toUTCString());
  });

  describe('afterProcessing: the effect happens, then the fault', () => {
    /** An ordinary top-up for an ACTIVE SIM (not a trigger package). */
    const topup = (harness: Harness) => {
      for (const iccid of harness.sandbox.control.iccids({ status: 'ACTIVE', hasTopups: true })) {
        const packageId = harness.sandbox.control
          .topupPackageIds(iccid)
          .find((id) => !id.startsWith('sandbox-trigger-'));
        if (packageId) return { iccid, package_id: packageId, description: 'fault test' };
      }
      throw new Error('no ACTIVE SIM with an ordinary top-up package');
    };

    it.each([502, 503] as const)(
      'answers %i to a submitTopup whose order was placed and charged; without the flag nothing is ordered',
      async (status) => {
        h = await startHarness();
        const order = topup(h);
        const balance = h.sandbox.control.balance();
        h.sandbox.control.addFault({ endpoint: 'submitTopup', errorStatus: status, times: 1 });
        expect((await h.post('/customer/v2/orders/topups', order)).status).toBe(status);
        expect(h.sandbox.control.orders()).toHaveLength(0);
        expect(h.sandbox.control.balance()).toBe(balance);

        h.sandbox.control.addFault({ endpoint: 'submitTopup', errorStatus: status, afterProcessing: true, times: 1 });
        const res = await h.post('/customer/v2/orders/topups', order);
        expect(res.status).toBe(status);
        expect(res.json?.data).toBeUndefined(); // the order's answer is gone
        const orders = h.sandbox.control.orders();
        expect(orders).toEqual([
          expect.objectContaining({ iccid: order.iccid, packageId: order.package_id, description: 'fault test' }),
        ]);
        expect(h.sandbox.control.balance()).toBeCloseTo(balance - orders[0]!.price, 2);
        expect(h.sandbox.control.countCalls({ endpoint: 'submitTopup', status })).toBe(2);
        const listed = await h.get(`/v2/orders?filter[iccid]=${order.iccid}&filter[description]=fault%20test`);
        expect(listed.json.data.map((o: { id: number }) => o.id)).toEqual([orders[0]!.id]); // the upstream's order list shows it
        expect((await h.post('/customer/v2/orders/topups', order)).status).toBe(200); // `times` used up
      },
    );

    it('hangs after the order was placed, recorded as status 0 as soon as it was processed; without the flag nothing is ordered', async () => {
      h = await startHarness();
      const order = topup(h);
      const post = (signal: AbortSignal) =>
        fetch(`${h.sandbox.url}/v2/orders/topups`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${h.token}` },
          body: JSON.stringify(order),
          signal,
        });
      h.sandbox.control.addFault({ endpoint: 'submitTopup', hang: true, times: 1 });
      await expect(post(AbortSignal.timeout(150))).rejects.toThrow();
      expect(h.sandbox.control.orders()).toHaveLength(0);

      h.sandbox.control.addFault({ endpoint: 'submitTopup', hang: true, afterProcessing: true, times: 1 });
      const controller = new AbortController();
      const pending = post(controller.signal);
      pending.catch(() => undefined);
      await expect
        .poll(() => h.sandbox.control.countCalls({ endpoint: 'submitTopup', status: 0 }), {
          timeout: 2_000,
          interval: 5,
        })
        .toBe(2);
      expect(h.sandbox.control.orders()).toEqual([
        expect.objectContaining({ iccid: order.iccid, packageId: order.package_id }),
      ]);
      controller.abort();
      await expect(pending).rejects.toThrow(); // never answered
    });

    it('with latency: processes first, then delays the answer; without the flag the delay comes first', async () => {
      h = await startHarness();
      const order = topup(h);
      h.sandbox.control.addFault({ endpoint: 'submitTopup', latencyMs: 300, afterProcessing: true, times: 1 });
      let answered = false;
      const slow = h.post('/v2/orders/topups', order).finally(() => (answered = true));
      await expect.poll(() => h.sandbox.control.orders().length, { timeout: 2_000, interval: 5 }).toBe(1);
      expect(answered).toBe(false); // placed before the answer
      expect(h.sandbox.control.countCalls({ endpoint: 'submitTopup' })).toBe(0); // recorded when answered
      expect((await slow).status).toBe(200);
      expect(h.sandbox.control.countCalls({ endpoint: 'submitTopup', status: 200 })).toBe(1);

      h.sandbox.control.addFault({ endpoint: 'submitTopup', latencyMs: 150, times: 1 });
      const delayed = h.post('/v2/orders/topups', order);
      await new Promise((resolve) => setTimeout(resolve, 60));
      expect(h.sandbox.control.orders()).toHaveLength(1); // not processed yet
      expect((await delayed).status).toBe(200);
      expect(h.sandbox.control.orders()).toHaveLength(2);
    });

    it('works for any endpoint: a token issued, then answered 429', async () => {
      h = await startHarness();
      const issued = h.sandbox.control.issuedTokens().length;
      h.sandbox.control.addFault({
        endpoint: 'token',
        rateLimit: { retryAfterSeconds: 7 },
        afterProcessing: true,
        times: 1,
      });
      const res = await h.post('/v2/token', TOKEN_FIELDS, null);
      expect(res.status).toBe(429);
      expect(res.headers.get('retry-after')).toBe('7');
      expect(h.sandbox.control.issuedTokens()).toHaveLength(issued + 1);
    });

    it('is validated: a boolean, listed with the rule, accepted over HTTP', async () => {
      h = await startHarness();
      expect(() =>
        h.sandbox.control.addFault({
          endpoint: 'submitTopup',
          errorStatus: 502,
          afterProcessing: 'yes' as unknown as boolean,
        }),
      ).toThrow(/afterProcessing must be a boolean/);
      const bad = await fetch(`${h.sandbox.url}/__sandbox/faults`, {
        method: 'POST',
        body: '{"errorStatus": 502, "afterProcessing": 1}',
      });
      expect(bad.status).toBe(400);
      const ok = await fetch(`${h.sandbox.url}/__sandbox/faults`, {
        method: 'POST',
        body: JSON.stringify({ endpoint: 'submitTopup', errorStatus: 502, afterProcessing: true }),
      });
      expect(ok.status).toBe(200);
      const { faults } = (await (await fetch(`${h.sandbox.url}/__sandbox/faults`)).json()) as {
        faults: Array<{ rule: unknown }>;
      };
      expect(faults.map((f) => f.rule)).toEqual([{ endpoint: 'submitTopup', errorStatus: 502, afterProcessing: true }]);
    });
  });
});

describe('control API over HTTP', () => {
  it('reports calls and orders, manages faults, advances the clock and resets state', async () => {
    h = await startHarness();
    const url = h.sandbox.url;
    const iccid = h.sandbox.control.iccids({ status: 'ACTIVE', unlimited: false })[0]!;
    await h.get(`/v2/sims/${iccid}/usage`);
    await h.get(`/customer/v2/sims/${iccid}/usage`);
    const calls = (await (await fetch(`${url}/__sandbox/calls?endpoint=usage&iccid=${iccid}`)).json()) as any;
    expect(calls.count).toBe(2);
    expect(calls.calls[0]).toEqual({
      endpoint: 'usage',
      flavour: 'airalo',
      method: 'GET',
      iccid,
      status: 200,
      at: h.clock.now(),
    });

    const add = await fetch(`${url}/__sandbox/faults`, {
      method: 'POST',
      body: JSON.stringify({ endpoint: 'balance', errorStatus: 502 }),
    });
    const { id } = (await add.json()) as any;
    expect(id).toBeTypeOf('string');
    expect((await h.get('/v2/balance')).status).toBe(502);
    expect((await fetch(`${url}/__sandbox/faults`, { method: 'POST', body: '{"errorStatus": 418}' })).status).toBe(400);
    await fetch(`${url}/__sandbox/faults`, { method: 'DELETE' });
    expect((await h.get('/v2/balance')).status).toBe(200);

    const packageId = ((await (await fetch(`${url}/__sandbox/topup-package-ids/${iccid}`)).json()) as any)
      .packageIds[0];
    expect((await h.post('/v2/orders/topups', { iccid, package_id: packageId, description: 'via http' })).status).toBe(
      200,
    );
    const orders = (await (await fetch(`${url}/__sandbox/orders`)).json()) as any;
    expect(orders.orders).toEqual([expect.objectContaining({ iccid, packageId, description: 'via http' })]);

    const before = h.clock.now();
    const advanced = await fetch(`${url}/__sandbox/clock/advance`, {
      method: 'POST',
      body: JSON.stringify({ ms: 60_000 }),
    });
    expect(((await advanced.json()) as any).now).toBe(before + 60_000);
    expect(h.clock.now()).toBe(before + 60_000);

    await fetch(`${url}/__sandbox/balance`, { method: 'PUT', body: JSON.stringify({ usd: 12.5 }) });
    expect(h.sandbox.control.balance()).toBe(12.5);
    expect((await fetch(`${url}/__sandbox/reset`, { method: 'POST' })).status).toBe(200);
    expect(h.sandbox.control.balance()).toBe(5000);
    expect(h.sandbox.control.orders()).toEqual([]);
    expect(h.sandbox.control.countCalls()).toBe(0);
    expect((await h.get('/v2/orders?filter[description]=via%20http')).json.data).toEqual([]);
    expect((await h.get('/v2/balance')).status).toBe(200); // tokens survive a reset
  });

  it('refuses to advance a real clock', async () => {
    const { createSandbox } = await import('../../src/sandbox/index.ts');
    const real = await createSandbox();
    const res = await fetch(`${real.url}/__sandbox/clock/advance`, { method: 'POST', body: '{"ms":1}' });
    expect(res.status).toBe(409);
    await real.close();
    h = await startHarness();
  });
});
