import { afterEach, describe, expect, it } from 'vitest';
import { BASES, FLAVOURS, type Harness, startHarness } from './helpers.ts';

let h: Harness;
afterEach(() => h.sandbox.close());

function activeWithTopups(harness: Harness, marker?: string): { iccid: string; packageId: string } {
  const control = harness.sandbox.control;
  for (const iccid of control.iccids({ status: 'ACTIVE' })) {
    const ids = control
      .topupPackageIds(iccid)
      .filter((id) => (marker ? id.includes(marker) : !id.startsWith('sandbox-trigger-')));
    if (ids.length > 0 && !control.topupPackageIds(iccid)[0]!.includes('unlimited'))
      return { iccid, packageId: ids[0]! };
  }
  throw new Error('no such SIM');
}

describe.each(FLAVOURS)('POST orders/topups (%s)', (flavour) => {
  const base = BASES[flavour];

  it('validates each field with a 422 per field', async () => {
    h = await startHarness();
    const missing = await h.post(`${base}/orders/topups`, {});
    expect(missing.status).toBe(422);
    expect(missing.json).toEqual({
      data: { iccid: 'The iccid field is required.', package_id: 'The package id field is required.' },
      meta: { message: 'the parameter is invalid' },
    });
    const { iccid } = activeWithTopups(h);
    const wrongPackage = await h.post(`${base}/orders/topups`, {
      iccid,
      package_id: 'uki-mobile-1day-unlimited-topup-nope',
    });
    expect(wrongPackage.json).toEqual({
      data: { package_id: 'invalid topup package' },
      meta: { message: 'the parameter is invalid' },
    });
    const longDescription = await h.post(`${base}/orders/topups`, {
      iccid,
      package_id: 'x',
      description: 'd'.repeat(256),
    });
    expect(longDescription.json.data.description).toMatch(/255/);
    const unknownIccid = await h.post(`${base}/orders/topups`, { iccid: '8999999999999999999', package_id: 'x' });
    expect(unknownIccid.json.data.iccid).toBe('The selected iccid is invalid.');
    expect(h.sandbox.control.orders()).toEqual([]);
  });

  it('buys a top-up: deducts the price, creates a findable order, extends history and (after the cache window) usage', async () => {
    h = await startHarness();
    const { iccid, packageId } = activeWithTopups(h);
    const usageBefore = (await h.get(`${base}/sims/${iccid}/usage`)).json.data;
    const historyBefore = await h.get(`${base}/sims/${iccid}/packages`);
    const before = flavour === 'pressone' ? historyBefore.json.data.data : historyBefore.json.data;
    const price = (await h.get(`${base}/sims/${iccid}/topups`)).json.data.find((p: any) => p.id === packageId).price;

    const res = await h.post(`${base}/orders/topups`, { iccid, package_id: packageId, description: 'gw-req-42' });
    expect(res.status).toBe(200);
    expect(res.json.meta.message).toBe('success');
    expect(res.json.data).toMatchObject({
      package_id: packageId,
      type: 'topup',
      quantity: '1',
      description: 'gw-req-42',
      currency: 'USD',
      price,
    });
    expect(res.json.data.code).toMatch(/^\d{8}-\d{6}$/);
    expect(h.sandbox.control.balance()).toBeCloseTo(5000 - price, 2);
    expect((await h.get(`${base}/balance`)).json.data.balances.availableBalance.amount).toBeCloseTo(5000 - price, 2);

    const orders = h.sandbox.control.orders();
    expect(orders).toEqual([
      expect.objectContaining({ id: res.json.data.id, iccid, packageId, description: 'gw-req-42', price, flavour }),
    ]);
    const found = await h.get(`${base}/orders?filter[iccid]=${iccid}&filter[description]=gw-req&include=sims`);
    expect(found.json.data.map((o: any) => o.id)).toEqual([res.json.data.id]);
    expect((await h.get(`${base}/orders/${res.json.data.id}`)).json.data.package_id).toBe(packageId);

    // usage is a cached snapshot: the new data shows up only once the snapshot is older than 20 minutes
    expect((await h.get(`${base}/sims/${iccid}/usage`)).json.data).toEqual(usageBefore);
    h.clock.advance(20 * 60_000);
    const usageAfter = (await h.get(`${base}/sims/${iccid}/usage`)).json.data;
    const pkg = (await h.get(`${base}/sims/${iccid}/topups`)).json.data.find((p: any) => p.id === packageId);
    expect(usageAfter.total).toBe(usageBefore.total + pkg.amount);
    expect(usageAfter.remaining).toBe(usageBefore.remaining + pkg.amount);

    const historyAfter = await h.get(`${base}/sims/${iccid}/packages`);
    const after = flavour === 'pressone' ? historyAfter.json.data.data : historyAfter.json.data;
    expect(after).toHaveLength(before.length + 1);
    expect(after[0].package.id).toBe(packageId);
    expect(after[0].status).toBe(flavour === 'pressone' ? 'active' : 'ACTIVE');
  });

  it('refuses a recycled SIM with code 73 and a purchase beyond the balance with code 11', async () => {
    h = await startHarness();
    const recycled = h.sandbox.control.iccids({ status: 'RECYCLED' })[0]!;
    const r = await h.post(`${base}/orders/topups`, { iccid: recycled, package_id: 'anything' });
    expect(r.status).toBe(422);
    expect(r.json.code).toBe(73);
    const { iccid, packageId } = activeWithTopups(h);
    h.sandbox.control.setBalance(1);
    const poor = await h.post(`${base}/orders/topups`, { iccid, package_id: packageId });
    expect(poor.status).toBe(422);
    expect(poor.json.code).toBe(11);
    expect(poor.json.reason).toMatch(/^Insufficient (PressOne|Airalo) Credit/);
    expect(h.sandbox.control.balance()).toBe(1);
    expect(h.sandbox.control.orders()).toEqual([]);
  });

  it('fails the sandbox trigger packages with codes 11, 13, 23 and 34 without charging', async () => {
    h = await startHarness();
    for (const [marker, code] of [
      ['insufficient-balance', 11],
      ['maintenance-mode', 13],
      ['disabled-top-up', 23],
      ['out-of-stock', 34],
    ] as const) {
      const { iccid, packageId } = activeWithTopups(h, marker);
      expect(packageId).toBe(`sandbox-trigger-${marker}`);
      const res = await h.post(`${base}/orders/topups`, { iccid, package_id: packageId });
      expect(res.status).toBe(422);
      expect(res.json.code).toBe(code);
      expect(res.json.reason).toBeTypeOf('string');
    }
    expect(h.sandbox.control.balance()).toBe(5000);
    expect(h.sandbox.control.orders()).toEqual([]);
  });
});
