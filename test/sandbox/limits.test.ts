import { afterEach, describe, expect, it } from 'vitest';
import { BASES, FLAVOURS, type Harness, startHarness, TOKEN_FIELDS } from './helpers.ts';

let h: Harness;
afterEach(() => h.sandbox.close());

/** The sandbox's 429, exactly as documented: the body, Retry-After and the X-RateLimit-* of the limit that tripped. */
function expectTooManyAttempts(
  res: { status: number; headers: Headers; json: any },
  limit: number,
  retryAfterSeconds: number,
  windowEndsAt: number,
) {
  expect(res.status).toBe(429);
  expect(res.json).toEqual({ message: 'Too Many Attempts.' });
  expect(res.headers.get('retry-after')).toBe(String(retryAfterSeconds));
  expect(res.headers.get('x-ratelimit-limit')).toBe(String(limit));
  expect(res.headers.get('x-ratelimit-remaining')).toBe('0');
  expect(res.headers.get('x-ratelimit-reset')).toBe(String(Math.ceil(windowEndsAt / 1000)));
}

describe('usage, pressone defaults (PressOne seed page: 100 per minute per ICCID)', () => {
  it('allows 100 reads a minute per ICCID, then 429 with Retry-After and X-RateLimit-*', async () => {
    h = await startHarness();
    const t0 = h.clock.now();
    const [a, b] = h.sandbox.control.iccids({ status: 'ACTIVE' });
    for (let i = 0; i < 100; i++) {
      // Both PressOne spellings (/customer/v2, the usage page's /cusomter/v2) are one flavour, one budget.
      const res = await h.get(`/${i % 2 ? 'cusomter' : 'customer'}/v2/sims/${a}/usage`);
      expect(res.status).toBe(200);
      expect(res.headers.get('x-ratelimit-remaining')).toBe(String(99 - i));
    }
    h.clock.advance(15_000);
    expectTooManyAttempts(await h.get(`/customer/v2/sims/${a}/usage`), 100, 45, t0 + 60_000);
    expect((await h.get(`/customer/v2/sims/${b}/usage`)).status).toBe(200); // another ICCID has its own budget
    expect((await h.get(`/v2/sims/${a}/usage`)).status).toBe(200); // and the other flavour its own limits
    h.clock.advance(45_000);
    expect((await h.get(`/customer/v2/sims/${a}/usage`)).status).toBe(200);
    expect(h.sandbox.control.countCalls({ endpoint: 'usage', iccid: a, status: 429 })).toBe(1);
    expect(h.sandbox.control.countCalls({ endpoint: 'usage', iccid: a, flavour: 'pressone' })).toBe(102);
  });

  it('honours a configured limit, and a refused read does not consume the budget', async () => {
    h = await startHarness({ usageLimitPerMinute: 2 });
    const iccid = h.sandbox.control.iccids()[0]!;
    expect((await h.get(`/customer/v2/sims/${iccid}/usage`)).status).toBe(200);
    expect((await h.get(`/customer/v2/sims/${iccid}/usage`)).status).toBe(200);
    for (let i = 0; i < 5; i++) expect((await h.get(`/customer/v2/sims/${iccid}/usage`)).status).toBe(429);
    h.clock.advance(60_000);
    expect((await h.get(`/customer/v2/sims/${iccid}/usage`)).status).toBe(200);
    expect((await h.get(`/customer/v2/sims/${iccid}/usage`)).status).toBe(200);
    expect((await h.get(`/customer/v2/sims/${iccid}/usage`)).status).toBe(429);
  });
});

describe("usage, airalo defaults (Airalo 'Rate limits' page, 2026-05-07: 10/min per ICCID and 5/s per client_id)", () => {
  it('the 11th read of one ICCID within 60 s is refused until its window ends', async () => {
    h = await startHarness();
    const t0 = h.clock.now();
    const [a, b] = h.sandbox.control.iccids({ status: 'ACTIVE' });
    for (let i = 0; i < 10; i++) {
      expect((await h.get(`/v2/sims/${a}/usage`)).status).toBe(200);
      h.clock.advance(1_000); // one read a second: the partner-wide 5/s never binds
    }
    // 10 s after the first read: the ICCID's window has 50 s left.
    expectTooManyAttempts(await h.get(`/v2/sims/${a}/usage`), 10, 50, t0 + 60_000);
    expect((await h.get(`/v2/sims/${b}/usage`)).status).toBe(200);
    h.clock.advance(49_999);
    expect((await h.get(`/v2/sims/${a}/usage`)).status).toBe(429);
    h.clock.advance(1);
    expect((await h.get(`/v2/sims/${a}/usage`)).status).toBe(200);
  });

  it('the 6th read within 1 s across 6 ICCIDs is refused (one budget per client_id), Retry-After 1', async () => {
    h = await startHarness();
    const t0 = h.clock.now();
    const iccids = h.sandbox.control.iccids().slice(0, 7);
    for (const iccid of iccids.slice(0, 5)) expect((await h.get(`/v2/sims/${iccid}/usage`)).status).toBe(200);
    h.clock.advance(999);
    expectTooManyAttempts(await h.get(`/v2/sims/${iccids[5]}/usage`), 5, 1, t0 + 1_000);
    h.clock.advance(1);
    for (const iccid of iccids.slice(1, 6)) expect((await h.get(`/v2/sims/${iccid}/usage`)).status).toBe(200);
    expect((await h.get(`/v2/sims/${iccids[6]}/usage`)).status).toBe(429);
    // PressOne documents no partner-wide usage limit.
    for (const iccid of iccids) expect((await h.get(`/customer/v2/sims/${iccid}/usage`)).status).toBe(200);
    expect(h.sandbox.control.limitRefusals()).toEqual([{ flavour: 'airalo', endpoint: 'usage', count: 2 }]);
  });

  it('refused by both limits: the 429 names the one that frees up last, and nothing is counted', async () => {
    h = await startHarness();
    const t0 = h.clock.now();
    const [a, b] = h.sandbox.control.iccids();
    for (let i = 0; i < 10; i++) {
      expect((await h.get(`/v2/sims/${a}/usage`)).status).toBe(200);
      if (i % 5 === 4) h.clock.advance(1_000);
    }
    for (let i = 0; i < 5; i++) expect((await h.get(`/v2/sims/${b}/usage`)).status).toBe(200);
    // a: per-ICCID window (58 s left) and partner window (1 s left) both refuse; the 429 says 58 s.
    expectTooManyAttempts(await h.get(`/v2/sims/${a}/usage`), 10, 58, t0 + 60_000);
    h.clock.advance(1_000);
    // The refused read of `a` spent nothing of the partner's next second: five reads of b still go through.
    for (let i = 0; i < 5; i++) expect((await h.get(`/v2/sims/${b}/usage`)).status).toBe(200);
  });

  it('usageLimitPerMinute replaces the per-ICCID limit and keeps the partner-wide one', async () => {
    h = await startHarness({ usageLimitPerMinute: 2 });
    const t0 = h.clock.now();
    const iccids = h.sandbox.control.iccids();
    expect((await h.get(`/v2/sims/${iccids[0]}/usage`)).status).toBe(200);
    expect((await h.get(`/v2/sims/${iccids[0]}/usage`)).status).toBe(200);
    expectTooManyAttempts(await h.get(`/v2/sims/${iccids[0]}/usage`), 2, 60, t0 + 60_000);
    for (const iccid of iccids.slice(1, 4)) expect((await h.get(`/v2/sims/${iccid}/usage`)).status).toBe(200);
    expectTooManyAttempts(await h.get(`/v2/sims/${iccids[4]}/usage`), 5, 1, t0 + 1_000);
  });
});

describe('token, per flavour', () => {
  it('airalo allows 3 token requests a minute (newest page), pressone 5 (older page), counted apart', async () => {
    h = await startHarness(); // spends one airalo token request
    const t0 = h.clock.now();
    h.sandbox.control.reset(); // limits back to empty windows; the harness's token stays valid
    for (let i = 0; i < 3; i++) expect((await h.post('/v2/token', TOKEN_FIELDS, null)).status).toBe(200);
    h.clock.advance(30_000);
    expectTooManyAttempts(await h.post('/v2/token', TOKEN_FIELDS, null), 3, 30, t0 + 60_000);
    for (let i = 0; i < 5; i++) expect((await h.post('/customer/v2/token', TOKEN_FIELDS, null)).status).toBe(200);
    expect((await h.post('/customer/v2/token', TOKEN_FIELDS, null)).status).toBe(429);
    h.clock.advance(30_000);
    expect((await h.post('/v2/token', TOKEN_FIELDS, null)).status).toBe(200);
  });
});

describe("Airalo's sandbox mode (airaloSandboxMode: 50 calls per minute per client_id, every endpoint)", () => {
  it('refuses the 51st /v2 call of the minute, whatever the endpoint; PressOne is not affected', async () => {
    h = await startHarness({ airaloSandboxMode: true }); // the harness's token request is call 1
    const t0 = h.clock.now();
    const iccid = h.sandbox.control.iccids()[0]!;
    const paths = ['/v2/balance', '/v2/sims?limit=1', `/v2/sims/${iccid}`, `/v2/sims/${iccid}/topups`, '/v2/orders'];
    for (let i = 0; i < 49; i++) {
      expect((await h.get(paths[i % paths.length]!)).status).toBe(200);
      if (i % 10 === 9) h.clock.advance(1_000);
    }
    expectTooManyAttempts(await h.get('/v2/balance'), 50, 56, t0 + 60_000);
    expect((await h.post('/v2/token', TOKEN_FIELDS, null)).status).toBe(429);
    expect((await h.get('/customer/v2/balance')).status).toBe(200);
    h.clock.advance(56_000);
    expect((await h.get('/v2/balance')).status).toBe(200);
    expect(h.sandbox.control.limits().airalo.all).toEqual([{ limit: 50, windowMs: 60_000, scope: 'per-partner' }]);
    expect(h.sandbox.control.limits().pressone.all).toEqual([]);
  });
});

describe('a full limits override per flavour', () => {
  it("replaces that flavour's defaults and leaves the other's", async () => {
    h = await startHarness({
      limits: {
        airalo: { endpoints: { balance: [{ limit: 1, windowMs: 15 * 60_000, scope: 'per-partner' }] }, all: [] },
      },
    });
    const t0 = h.clock.now();
    const iccid = h.sandbox.control.iccids()[0]!;
    for (let i = 0; i < 20; i++) expect((await h.get(`/v2/sims/${iccid}/usage`)).status).toBe(200);
    expect((await h.get('/v2/balance')).status).toBe(200);
    expectTooManyAttempts(await h.get('/v2/balance'), 1, 900, t0 + 900_000);
    expect((await h.get('/customer/v2/balance')).status).toBe(200);
    expect(h.sandbox.control.limits().pressone.endpoints.usage).toEqual([
      { limit: 100, windowMs: 60_000, scope: 'per-iccid' },
    ]);
  });

  it('GET /__sandbox/limits shows what each flavour enforces and the 429s it answered', async () => {
    h = await startHarness({ historyIntervalSeconds: 60 });
    const iccid = h.sandbox.control.iccids()[0]!;
    await h.get(`/customer/v2/sims/${iccid}/packages`);
    await h.get(`/customer/v2/sims/${iccid}/packages`);
    // A fault's 429 is not the limits' refusal.
    h.sandbox.control.addFault({ endpoint: 'balance', rateLimit: { retryAfterSeconds: 5 }, times: 1 });
    expect((await h.get('/v2/balance')).status).toBe(429);
    const res = await fetch(`${h.sandbox.url}/__sandbox/limits`);
    const body = (await res.json()) as any;
    expect(body.limits.pressone.endpoints.packages).toEqual([{ limit: 1, windowMs: 60_000, scope: 'per-iccid' }]);
    expect(body.limits.airalo.endpoints.packages).toEqual([{ limit: 1, windowMs: 60_000, scope: 'per-iccid' }]);
    expect(body.limits.airalo.endpoints.usage[1]).toEqual({ limit: 5, windowMs: 1_000, scope: 'per-partner' });
    expect(body.refusals).toEqual([{ flavour: 'pressone', endpoint: 'packages', count: 1 }]);
    expect(h.sandbox.control.countCalls({ status: 429 })).toBe(2);
  });
});

describe('usage cache', () => {
  it('returns a snapshot at most usageCacheSeconds old', async () => {
    h = await startHarness({ usageCacheSeconds: 60 });
    const iccid = h.sandbox.control.iccids({ status: 'ACTIVE', unlimited: false })[0]!;
    const packageId = h.sandbox.control.topupPackageIds(iccid)[0]!;
    const before = (await h.get(`/v2/sims/${iccid}/usage`)).json.data;
    expect((await h.post('/v2/orders/topups', { iccid, package_id: packageId })).status).toBe(200);
    h.clock.advance(59_999);
    expect((await h.get(`/customer/v2/sims/${iccid}/usage`)).json.data).toEqual(before);
    h.clock.advance(1);
    expect((await h.get(`/customer/v2/sims/${iccid}/usage`)).json.data.total).toBeGreaterThan(before.total);
  });
});

describe.each(FLAVOURS)('package history (%s)', (flavour) => {
  it("serves the flavour's envelope", async () => {
    h = await startHarness();
    const iccid = h.sandbox.control.iccids({ status: 'ACTIVE', hasTopups: true })[0]!;
    const res = await h.get(`${BASES[flavour]}/sims/${iccid}/packages`);
    expect(res.status).toBe(200);
    if (flavour === 'pressone') {
      expect(res.json).toMatchObject({
        success: true,
        code: 'PACKAGE_HISTORY_RETRIEVED',
        message: expect.any(String),
        timestamp: '2026-01-01T00:00:00.000Z',
      });
      expect(res.json.data.data[0].status).toBe('active');
      expect(res.json.data.data[0].activated_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    } else {
      expect(Object.keys(res.json)).toEqual(['data']);
      expect(res.json.data[0].status).toBe('ACTIVE');
      expect(res.json.data[0].activated_at).toMatch(/\+00:00$/);
    }
    const items = flavour === 'pressone' ? res.json.data.data : res.json.data;
    expect(items.length).toBeGreaterThanOrEqual(2);
    expect(items.at(-1).package.type).toBe('initial');
    expect(items[0].package.type).toBe('topup');
  });

  it('uses a configured interval (one read per N s on either flavour) and answers 404 for an unknown ICCID', async () => {
    h = await startHarness({ historyIntervalSeconds: 30 });
    const iccid = h.sandbox.control.iccids()[0]!;
    expect((await h.get(`${BASES[flavour]}/sims/${iccid}/packages`)).status).toBe(200);
    const limited = await h.get(`${BASES[flavour]}/sims/${iccid}/packages`);
    expect(limited.headers.get('retry-after')).toBe('30');
    expect((await h.get(`${BASES[flavour]}/sims/8999999999999999999/packages`)).status).toBe(404);
  });
});

describe('package history limits, per flavour', () => {
  it('pressone: one read per ICCID per 15 minutes (PressOne seed page), Retry-After = seconds left', async () => {
    h = await startHarness();
    const t0 = h.clock.now();
    const [a, b] = h.sandbox.control.iccids({ status: 'ACTIVE', hasTopups: true });
    expect((await h.get(`/customer/v2/sims/${a}/packages`)).status).toBe(200);
    h.clock.advance(5 * 60_000);
    expectTooManyAttempts(await h.get(`/customer/v2/sims/${a}/packages`), 1, 600, t0 + 900_000);
    expect((await h.get(`/customer/v2/sims/${b}/packages`)).status).toBe(200);
    h.clock.advance(599_000);
    expect((await h.get(`/customer/v2/sims/${a}/packages`)).headers.get('retry-after')).toBe('1');
    h.clock.advance(1_000);
    expect((await h.get(`/customer/v2/sims/${a}/packages`)).status).toBe(200);
  });

  it("airalo: 10 reads per ICCID per minute (Airalo 'Rate limits' page, 2026-05-07)", async () => {
    h = await startHarness();
    const t0 = h.clock.now();
    const [a, b] = h.sandbox.control.iccids({ status: 'ACTIVE', hasTopups: true });
    for (let i = 0; i < 10; i++) expect((await h.get(`/v2/sims/${a}/packages`)).status).toBe(200);
    h.clock.advance(20_000);
    expectTooManyAttempts(await h.get(`/v2/sims/${a}/packages`), 10, 40, t0 + 60_000);
    expect((await h.get(`/v2/sims/${b}/packages`)).status).toBe(200);
    expect((await h.get(`/customer/v2/sims/${a}/packages`)).status).toBe(200); // PressOne counts its own
    h.clock.advance(40_000);
    expect((await h.get(`/v2/sims/${a}/packages`)).status).toBe(200);
  });
});

describe('top-up list not-found switch', () => {
  it('answers the not-found body with 200 when notFoundStatus is 200', async () => {
    h = await startHarness({ notFoundStatus: 200 });
    const res = await h.get('/customer/v2/sims/8999999999999999999/topups');
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ data: [], meta: { message: 'messages.resource_not_found' } });
  });
});
