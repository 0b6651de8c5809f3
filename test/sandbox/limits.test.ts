import { afterEach, describe, expect, it } from 'vitest';
import { BASES, FLAVOURS, type Harness, startHarness } from './helpers.ts';

let h: Harness;
afterEach(() => h.sandbox.close());

describe('usage limit (per ICCID, shared by both flavours)', () => {
  it('allows 100 reads a minute per ICCID, then 429 with Retry-After and X-RateLimit-*', async () => {
    h = await startHarness();
    const [a, b] = h.sandbox.control.iccids({ status: 'ACTIVE' });
    for (let i = 0; i < 100; i++) {
      const res = await h.get(`${BASES[FLAVOURS[i % 2]!]}/sims/${a}/usage`);
      expect(res.status).toBe(200);
      expect(res.headers.get('x-ratelimit-remaining')).toBe(String(99 - i));
    }
    h.clock.advance(15_000);
    const limited = await h.get(`/customer/v2/sims/${a}/usage`);
    expect(limited.status).toBe(429);
    expect(limited.json).toEqual({ message: 'Too Many Attempts.' });
    expect(limited.headers.get('retry-after')).toBe('45');
    expect(limited.headers.get('x-ratelimit-limit')).toBe('100');
    expect(limited.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(limited.headers.get('x-ratelimit-reset')).toBe(String(Math.ceil((h.clock.now() + 45_000) / 1000)));
    expect((await h.get(`/v2/sims/${b}/usage`)).status).toBe(200); // another ICCID has its own budget
    h.clock.advance(45_000);
    expect((await h.get(`/v2/sims/${a}/usage`)).status).toBe(200);
    expect(h.sandbox.control.countCalls({ endpoint: 'usage', iccid: a, status: 429 })).toBe(1);
    expect(h.sandbox.control.countCalls({ endpoint: 'usage', iccid: a })).toBe(102);
  });

  it('honours a configured limit, and a refused read does not consume the budget', async () => {
    h = await startHarness({ usageLimitPerMinute: 2 });
    const iccid = h.sandbox.control.iccids()[0]!;
    expect((await h.get(`/v2/sims/${iccid}/usage`)).status).toBe(200);
    expect((await h.get(`/v2/sims/${iccid}/usage`)).status).toBe(200);
    for (let i = 0; i < 5; i++) expect((await h.get(`/v2/sims/${iccid}/usage`)).status).toBe(429);
    h.clock.advance(60_000);
    expect((await h.get(`/v2/sims/${iccid}/usage`)).status).toBe(200);
    expect((await h.get(`/v2/sims/${iccid}/usage`)).status).toBe(200);
    expect((await h.get(`/v2/sims/${iccid}/usage`)).status).toBe(429);
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
  it("serves the flavour's envelope and allows one read per ICCID per 15 minutes", async () => {
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

    h.clock.advance(5 * 60_000);
    const other = flavour === 'pressone' ? '/v2' : '/customer/v2';
    const limited = await h.get(`${other}/sims/${iccid}/packages`);
    expect(limited.status).toBe(429);
    expect(limited.json).toEqual({ message: 'Too Many Attempts.' });
    expect(limited.headers.get('retry-after')).toBe('600');
    h.clock.advance(599_000);
    expect((await h.get(`${BASES[flavour]}/sims/${iccid}/packages`)).headers.get('retry-after')).toBe('1');
    h.clock.advance(1_000);
    expect((await h.get(`${BASES[flavour]}/sims/${iccid}/packages`)).status).toBe(200);
  });

  it('uses a configured interval and answers 404 for an unknown ICCID', async () => {
    h = await startHarness({ historyIntervalSeconds: 30 });
    const iccid = h.sandbox.control.iccids()[0]!;
    expect((await h.get(`${BASES[flavour]}/sims/${iccid}/packages`)).status).toBe(200);
    const limited = await h.get(`${BASES[flavour]}/sims/${iccid}/packages`);
    expect(limited.headers.get('retry-after')).toBe('30');
    expect((await h.get(`${BASES[flavour]}/sims/8999999999999999999/packages`)).status).toBe(404);
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
