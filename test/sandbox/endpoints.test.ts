import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BASES, FLAVOURS, type Harness, startHarness } from './helpers.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.sandbox.close());

describe.each(FLAVOURS)('read endpoints (%s)', (flavour) => {
  const base = BASES[flavour];

  it('GET balance: USD balance, text/plain on PressOne and JSON on Airalo', async () => {
    const res = await h.get(`${base}/balance`);
    expect(res.status).toBe(200);
    expect(res.json).toEqual({
      data: { balances: { name: 'balance', availableBalance: { amount: 5000, currency: 'USD' } } },
      meta: { message: 'success' },
    });
    expect(res.headers.get('content-type')).toMatch(flavour === 'pressone' ? /^text\/plain/ : /^application\/json/);
  });

  it('GET sims: pagination with links and meta, filter[iccid], include', async () => {
    const first = await h.get(`${base}/sims?limit=20&page=1`);
    expect(first.status).toBe(200);
    expect(first.json.data).toHaveLength(20);
    expect(first.json.meta).toMatchObject({
      current_page: 1,
      from: 1,
      to: 20,
      last_page: 3,
      per_page: '20',
      total: 50,
    });
    expect(first.json.links.prev).toBeNull();
    expect(first.json.links.next).toBe(`${h.sandbox.url}${base}/sims?limit=20&page=2`);
    const last = await h.get(`${base}/sims?limit=20&page=3`);
    expect(last.json.data).toHaveLength(10);
    expect(last.json.links.next).toBeNull();
    const ids = [...first.json.data, ...(await h.get(`${base}/sims?limit=20&page=2`)).json.data, ...last.json.data].map(
      (s: any) => s.iccid,
    );
    expect(new Set(ids).size).toBe(50);
    expect(first.json.data[0].simable.status).toBeUndefined();

    const iccid = h.sandbox.control.iccids()[3]!;
    const filtered = await h.get(
      `${base}/sims?filter[iccid]=${iccid.slice(2, 14)}&include=order,order.status,order.user,share`,
    );
    expect(filtered.json.data.map((s: any) => s.iccid)).toContain(iccid);
    const sim = filtered.json.data.find((s: any) => s.iccid === iccid);
    expect(sim.simable.status).toEqual({ name: 'Completed', slug: 'completed' });
    expect(sim.simable.user.id).toBeTypeOf('number');
    expect(sim.simable.sharing.link).toBeTypeOf('string');
    expect((await h.get(`${base}/sims?limit=abc`)).status).toBe(422);
  });

  it('GET sims/{iccid}: the eSIM with its order, string price and validity, "succes" message', async () => {
    const iccid = h.sandbox.control.iccids({ status: 'RECYCLED' })[0]!;
    const res = await h.get(`${base}/sims/${iccid}`);
    expect(res.status).toBe(200);
    expect(res.json.meta.message).toBe('succes');
    expect(res.json.data).toMatchObject({
      iccid,
      recycled: true,
      qrcode: `LPA:1$lpa.sandbox.example$${res.json.data.matching_id}`,
    });
    expect(res.json.data.recycled_at).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    expect(res.json.data.simable.price).toMatch(/^\d+\.\d\d$/);
    expect(res.json.data.simable.validity).toMatch(/^\d+$/);
    const missing = await h.get(`${base}/sims/8999999999999999999`);
    expect(missing.status).toBe(404);
    expect(missing.json).toEqual({ data: [], meta: { message: 'messages.resource_not_found' } });
  });

  it('GET sims/{iccid}/usage: the usage with "api.succes"; RECYCLED zeros; unknown ICCID 404', async () => {
    const active = h.sandbox.control.iccids({ status: 'ACTIVE', unlimited: false })[0]!;
    const res = await h.get(`${base}/sims/${active}/usage`);
    expect(res.status).toBe(200);
    expect(res.json.meta.message).toBe('api.succes');
    expect(res.json.data.status).toBe('ACTIVE');
    expect(res.json.data.total).toBeGreaterThan(0);
    expect(res.json.data.remaining).toBeLessThanOrEqual(res.json.data.total);
    // The limit with the fewest calls left: PressOne's 100/min per ICCID; Airalo's 5/s per partner (over 10/min per ICCID).
    expect(res.headers.get('x-ratelimit-limit')).toBe(flavour === 'pressone' ? '100' : '5');
    const recycled = await h.get(`${base}/sims/${h.sandbox.control.iccids({ status: 'RECYCLED' })[0]}/usage`);
    expect(recycled.json.data).toEqual({
      remaining: 0,
      total: 0,
      expired_at: null,
      is_unlimited: null,
      status: 'RECYCLED',
      remaining_voice: 0,
      remaining_text: 0,
      total_voice: 0,
      total_text: 0,
    });
    const unlimited = await h.get(
      `${base}/sims/${h.sandbox.control.iccids({ status: 'ACTIVE', unlimited: true })[0]}/usage`,
    );
    expect(unlimited.json.data).toMatchObject({ is_unlimited: true, total: 0, remaining: 0 });
    expect((await h.get(`${base}/sims/8999999999999999998/usage`)).status).toBe(404);
  });

  it("GET sims/{iccid}/topups: the operator's packages, [] when none, 73 when recycled, 404 when unknown", async () => {
    const control = h.sandbox.control;
    const withTopups = control.iccids({ status: 'ACTIVE' }).find((i) => control.topupPackageIds(i).length > 0)!;
    const res = await h.get(`${base}/sims/${withTopups}/topups`);
    expect(res.status).toBe(200);
    expect(res.json.data.map((p: any) => p.id)).toEqual(control.topupPackageIds(withTopups));
    expect(res.json.meta).toBeUndefined();
    const none = control
      .iccids()
      .find((i) => control.topupPackageIds(i).length === 0 && !control.iccids({ status: 'RECYCLED' }).includes(i))!;
    expect((await h.get(`${base}/sims/${none}/topups`)).json).toEqual({ data: [] });
    const recycled = control.iccids({ status: 'RECYCLED' })[0]!;
    const r = await h.get(`${base}/sims/${recycled}/topups`);
    expect(r.status).toBe(422);
    expect(r.json).toEqual({
      code: 73,
      reason: `The eSIM with iccid ${recycled} has been recycled. It can no longer be used or topped up.`,
    });
    const unknown = await h.get(`${base}/sims/8999999999999999997/topups`);
    expect(unknown.status).toBe(404);
    expect(unknown.json).toEqual({ data: [], meta: { message: 'messages.resource_not_found' } });
  });

  it('GET orders and orders/{id}: newest first, filters, includes, 404', async () => {
    const list = await h.get(`${base}/orders?limit=5&include=sims,user,status`);
    expect(list.status).toBe(200);
    expect(list.json.data).toHaveLength(5);
    expect(list.json.meta.per_page).toBe('5');
    const ids = list.json.data.map((o: any) => o.id);
    expect([...ids].sort((a, b) => b - a)).toEqual(ids);
    const order = list.json.data[0];
    expect(order.price).toMatch(/^\d+\.\d\d$/);
    expect(order.code).toMatch(/^\d{8}-\d{6}$/);
    expect(order.sims[0].iccid).toMatch(/^89\d{17,18}$/);
    const iccid = order.sims[0].iccid;
    const byIccid = await h.get(`${base}/orders?filter[iccid]=${iccid}&include=sims`);
    expect(byIccid.json.data.length).toBeGreaterThan(0);
    expect(byIccid.json.data.every((o: any) => o.sims[0].iccid === iccid)).toBe(true);
    const one = await h.get(`${base}/orders/${order.id}?include=sims`);
    expect(one.status).toBe(200);
    expect(one.json.data.id).toBe(order.id);
    expect((await h.get(`${base}/orders/123`)).status).toBe(404);
  });
});

describe('paths', () => {
  it('serves usage under the /cusomter/v2 spelling of the PressOne page, and nothing else there', async () => {
    const iccid = h.sandbox.control.iccids()[0]!;
    expect((await h.get(`/cusomter/v2/sims/${iccid}/usage`)).status).toBe(200);
    expect(h.sandbox.control.countCalls({ endpoint: 'usage', iccid, flavour: 'pressone' })).toBeGreaterThan(0);
    expect((await h.get(`/cusomter/v2/balance`)).status).toBe(404);
    expect((await h.get('/v1/balance')).status).toBe(404);
  });
});
