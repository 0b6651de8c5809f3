import { afterEach, describe, expect, it } from 'vitest';
import { FLAVOURS, type Flavour } from '../../src/upstream/index.ts';
import { ACCESS_TOKEN, airalo, createHarness, fixture, type Harness, pressone, stripDocComments } from './helpers.ts';

const flavours: readonly Flavour[] = FLAVOURS;
/** PressOne pages exist for balance, top-ups, usage and history; everything else is the same API as Airalo's. */
const examples = (flavour: Flavour, key: string) =>
  flavour === 'pressone' && key in pressone ? fixture(pressone, key) : fixture(airalo, key);

let harness: Harness | undefined;
afterEach(async () => {
  harness?.agent.assertNoPendingInterceptors();
  await harness?.close();
  harness = undefined;
});

function setup(flavour: Flavour): Harness {
  harness = createHarness(flavour);
  harness.serveTokens();
  return harness;
}

describe.each(flavours)('%s flavour: every endpoint with the documented example payloads', (flavour) => {
  it('reads the balance, whose JSON body is labelled text/plain', async () => {
    const h = setup(flavour);
    h.reply('GET', '/balance', 200, examples(flavour, 'balance.200'), { 'content-type': 'text/plain' });
    await expect(h.client.getBalance()).resolves.toEqual({ amount: '0.00', currency: 'USD' });
    const call = h.requests.find((r) => r.path === `${h.base}/balance`)!;
    expect(call.headers.authorization).toBe(`Bearer ${ACCESS_TOKEN}`);
    expect(call.headers.accept).toBe('application/json');
  });

  it('lists eSIMs with limit, page and filter[iccid], and string per_page pagination', async () => {
    const h = setup(flavour);
    h.reply('GET', '/sims?limit=5&page=1&filter%5Biccid%5D=8910', 200, examples(flavour, 'sims.200'));
    const { items, page } = await h.client.listSims({ limit: 5, page: 1, iccidContains: '8910' });
    expect(page).toEqual({ currentPage: 1, lastPage: 16, perPage: 5, total: 77 });
    expect(items).toHaveLength(5);
    expect(items[0]).toMatchObject({
      id: '11047',
      iccid: '891000000000009125',
      createdAt: '2023-02-27T14:09:55.000Z',
      recycled: true,
      recycledAt: '2025-05-05T10:52:39.000Z',
      initialOrder: {
        id: '9666',
        code: '20230227-009666',
        validityDays: 7,
        price: '9.50',
        currency: 'USD',
        status: 'COMPLETED',
      },
    });
    // The second item has no `recycled` field at all.
    expect(items[1]).toMatchObject({ iccid: '891000000000009106', recycled: false, recycledAt: null });
  });

  it('gets one eSIM with its initial order from `simable` (typo\'d meta.message "succes")', async () => {
    const h = setup(flavour);
    h.reply('GET', '/sims/8944465400000267221', 200, examples(flavour, 'sim.200'));
    await expect(h.client.getSim('8944465400000267221')).resolves.toEqual({
      id: '11028',
      iccid: '8944465400000267221',
      createdAt: '2023-02-27T08:30:14.000Z',
      lpa: 'lpa.airalo.com',
      matchingId: 'TEST',
      qrCode: 'LPA:1$lpa.airalo.com$TEST',
      qrCodeUrl: expect.stringContaining('https://sandbox.airalo.com/qr?'),
      appleInstallUrl:
        'https://esimsetup.apple.com/esim_qrcode_provisioning?carddata=LPA:1$wbg.prod.ondemandconnectivity.com$Y7MRQ886FCDJD4RH',
      apnType: 'automatic',
      apnValue: null,
      isRoaming: true,
      recycled: true,
      recycledAt: '2025-05-05T10:52:39.000Z',
      voucherCode: null,
      confirmationCode: '5751',
      brandSettingsName: 'our perfect brand',
      initialOrder: {
        id: '9647',
        code: '20230227-009647',
        packageId: 'kallur-digital-7days-1gb',
        packageTitle: 'Kallur Digital-1 GB - 7 Days',
        validityDays: 7,
        price: '9.50',
        currency: 'USD',
        dataLabel: '1 GB',
        status: 'COMPLETED',
      },
    });
  });

  it('reads usage ("api.succes"); unlimited packages report null MB instead of the upstream\'s numbers', async () => {
    const h = setup(flavour);
    h.reply('GET', '/sims/8910300000005271146/usage', 200, stripDocComments(examples(flavour, 'usage.200')));
    await expect(h.client.getUsage('8910300000005271146')).resolves.toEqual({
      status: 'ACTIVE',
      remainingMb: null,
      totalMb: null,
      isUnlimited: true,
      expiresAt: '2022-01-01T00:00:00.000Z',
      remainingVoiceMinutes: 0,
      totalVoiceMinutes: 0,
      remainingTexts: 0,
      totalTexts: 0,
    });
    expect(h.calls.find((c) => c.endpoint === 'usage')).toMatchObject({ status: 200, iccid: '8910300000005271146' });
  });

  it('reads the usage of a recycled eSIM (200 with zeros, null expiry and null is_unlimited)', async () => {
    const h = setup(flavour);
    h.reply('GET', '/sims/8910300000005271146/usage', 200, fixture(airalo, 'usage.200-recycled'));
    await expect(h.client.getUsage('8910300000005271146')).resolves.toEqual({
      status: 'RECYCLED',
      remainingMb: 0,
      totalMb: 0,
      isUnlimited: null,
      expiresAt: null,
      remainingVoiceMinutes: 0,
      totalVoiceMinutes: 0,
      remainingTexts: 0,
      totalTexts: 0,
    });
  });

  it('lists top-up packages with decimal prices and USD as the default currency', async () => {
    const h = setup(flavour);
    h.reply('GET', '/sims/8910300000005271146/topups', 200, examples(flavour, 'topups.200'));
    const packages = await h.client.getTopups('8910300000005271146');
    expect(packages.map((p) => p.price)).toEqual(['10.00', '15.00', '22.50']);
    expect(packages[0]).toEqual({
      id: 'bonbon-mobile-30days-3gb-topup',
      type: 'topup',
      title: '3 GB - 100 SMS - 100 Mins - 30 Days',
      price: '10.00',
      netPrice: null,
      currency: 'USD',
      amountMb: 3072,
      validityDays: 30,
      isUnlimited: false,
      dataLabel: '3 GB',
      shortInfo: "This eSIM doesn't come with a phone number.",
      voiceMinutes: 100,
      texts: 100,
    });
  });

  it('returns an empty top-up list as []', async () => {
    const h = setup(flavour);
    h.reply('GET', '/sims/8910300000005271146/topups', 200, fixture(airalo, 'topups.200-empty'));
    await expect(h.client.getTopups('8910300000005271146')).resolves.toEqual([]);
  });

  it('reads the package history envelope of this flavour', async () => {
    const h = setup(flavour);
    h.reply('GET', '/sims/8910300000005271146/packages', 200, examples(flavour, 'packages.200'));
    const history = await h.client.getPackageHistory('8910300000005271146');
    expect(history).toHaveLength(2);
    expect(history[0]!.status).toBe('ACTIVE');
    expect(history[0]!.activatedAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.000Z$/);
  });

  it('submits a top-up as JSON and maps the order (string quantity, numeric price)', async () => {
    const h = setup(flavour);
    h.reply('POST', '/orders/topups', 200, fixture(airalo, 'submitTopup.200'));
    const order = await h.client.submitTopup({
      iccid: '89340000000000872',
      packageId: 'bonbon-mobile-30days-3gb-topup',
      description: 'Topup (89340000000000872)',
    });
    expect(order).toEqual({
      id: '174',
      code: '20230207-000174',
      packageId: 'bonbon-mobile-30days-3gb-topup',
      title: 'Bonbon Mobile 2-3 GB - 30 Days',
      price: '10.00',
      netPrice: null,
      currency: 'USD',
      createdAt: '2023-02-07T07:42:17.000Z',
      description: 'Topup (89340000000000872)',
      iccid: '89340000000000872',
      validityDays: 30,
      dataLabel: '3 GB',
    });
    const post = h.requests.find((r) => r.method === 'POST' && r.path.endsWith('/orders/topups'))!;
    expect(post.headers['content-type']).toBe('application/json');
    expect(JSON.parse(post.body!)).toEqual({
      package_id: 'bonbon-mobile-30days-3gb-topup',
      iccid: '89340000000000872',
      description: 'Topup (89340000000000872)',
    });
  });

  it('lists orders with include=sims and the filters, taking the ICCID from the first sim', async () => {
    const h = setup(flavour);
    h.reply(
      'GET',
      '/orders?include=sims&filter%5Biccid%5D=891000000000009125&filter%5Bdescription%5D=gw-123&limit=5&page=1',
      200,
      fixture(airalo, 'orders.200'),
    );
    const { items, page } = await h.client.listOrders({
      iccid: '891000000000009125',
      description: 'gw-123',
      limit: 5,
      page: 1,
    });
    expect(page).toEqual({ currentPage: 1, lastPage: 18, perPage: 5, total: 87 });
    expect(items[0]).toMatchObject({
      id: '9666',
      iccid: '891000000000009125',
      price: '9.50',
      validityDays: 7,
      description: 'Example description to identify the order',
    });
    // A top-up order with `sims: []` has no ICCID to report.
    expect(items.find((o) => o.id === '9566')).toMatchObject({
      iccid: null,
      price: '10.00',
      packageId: 'bonbon-mobile-30days-3gb-topup',
    });
  });

  it('gets one order', async () => {
    const h = setup(flavour);
    h.reply('GET', '/orders/9565?include=sims', 200, fixture(airalo, 'order.200'));
    await expect(h.client.getOrder('9565')).resolves.toEqual({
      id: '9565',
      code: '20230222-009565',
      packageId: 'bonbon-mobile-30days-10gb',
      title: 'Bonbon Mobile-10 GB - 30 Days',
      price: '22.50',
      netPrice: null,
      currency: 'USD',
      createdAt: '2023-02-22T14:24:01.000Z',
      description: null,
      iccid: '891000000000009032',
      validityDays: 30,
      dataLabel: '10 GB',
    });
  });
});

describe('envelope and field quirks', () => {
  it('normalises both package-history envelopes to identical output', async () => {
    const iccid = '8910300000005271146';
    const sameItems = JSON.parse(fixture(pressone, 'packages.200')).data.data as Array<Record<string, unknown>>;
    // The same entries as Airalo sends them: flat `data` array, upper-case statuses.
    const airaloBody = JSON.stringify({
      data: sameItems.map((e) => ({ ...e, status: String(e.status).toUpperCase() })),
    });

    const a = createHarness('pressone');
    a.serveTokens();
    a.reply('GET', `/sims/${iccid}/packages`, 200, fixture(pressone, 'packages.200'));
    const b = createHarness('airalo');
    b.serveTokens();
    b.reply('GET', `/sims/${iccid}/packages`, 200, airaloBody);
    try {
      const fromPressOne = await a.client.getPackageHistory(iccid);
      const fromAiralo = await b.client.getPackageHistory(iccid);
      expect(fromPressOne).toEqual(fromAiralo);
      expect(fromPressOne).toEqual([
        {
          id: '1',
          status: 'ACTIVE',
          remainingMb: 500,
          activatedAt: '2024-01-15T10:30:00.000Z',
          expiresAt: '2024-01-22T10:30:00.000Z',
          finishedAt: null,
          package: {
            id: '5e0db',
            type: 'INITIAL',
            title: 'Merhaba - 7 Days - 1GB',
            price: '9.50',
            netPrice: '7.50',
            currency: 'USD',
            amountMb: 1024,
            validityDays: 7,
            isUnlimited: false,
            dataLabel: '1 GB',
          },
        },
        {
          id: '2',
          status: 'EXPIRED',
          remainingMb: 0,
          activatedAt: '2024-01-08T10:30:00.000Z',
          expiresAt: '2024-01-15T10:30:00.000Z',
          finishedAt: '2024-01-15T10:30:00.000Z',
          package: {
            id: 'topup-abc123',
            type: 'TOPUP',
            title: 'Top-up - 7 Days - 500MB',
            price: '5.00',
            netPrice: '4.00',
            currency: 'USD',
            amountMb: 512,
            validityDays: 7,
            isUnlimited: false,
            dataLabel: '500 MB',
          },
        },
      ]);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('converts history dates with an offset to UTC (Airalo example)', async () => {
    const h = setup('airalo');
    h.reply('GET', '/sims/8910300000005271146/packages', 200, fixture(airalo, 'packages.200'));
    const [first] = await h.client.getPackageHistory('8910300000005271146');
    expect(first).toMatchObject({
      id: '728',
      status: 'ACTIVE',
      remainingMb: 2378,
      activatedAt: '2023-01-09T10:30:45.000Z',
      package: { netPrice: '6.00', type: 'TOPUP' },
    });
  });

  it('tolerates extra fields (pricing, prices) and string numbers in top-up packages', async () => {
    const h = setup('airalo');
    const body = {
      pricing: { model: 'net_pricing', discount_percentage: 0 },
      data: [
        {
          id: 'unlimited-7d',
          type: 'topup',
          price: '4.125',
          net_price: 3.3,
          prices: { net_price: { USD: 3.3 }, recommended_retail_price: { USD: 4.125 } },
          amount: 0,
          day: '7',
          is_unlimited: true,
          title: 'Unlimited - 7 Days',
          data: 'Unlimited',
          short_info: null,
          voice: null,
          text: null,
        },
      ],
    };
    h.reply('GET', '/sims/8910300000005271146/topups', 200, JSON.stringify(body));
    await expect(h.client.getTopups('8910300000005271146')).resolves.toEqual([
      expect.objectContaining({ price: '4.125', netPrice: '3.30', validityDays: 7, isUnlimited: true, amountMb: null }),
    ]);
  });

  it('maps unknown usage statuses to UNKNOWN and upper-cases known ones', async () => {
    const h = setup('pressone');
    const usage = (status: string) =>
      JSON.stringify({
        data: {
          remaining: '767',
          total: '2048',
          expired_at: '2022-01-01 00:00:00',
          is_unlimited: false,
          status,
          remaining_voice: 0,
          remaining_text: 0,
          total_voice: 0,
          total_text: 0,
        },
        meta: { message: 'api.succes' },
      });
    h.reply('GET', '/sims/1/usage', 200, usage('not_active'));
    h.reply('GET', '/sims/2/usage', 200, usage('SUSPENDED'));
    await expect(h.client.getUsage('1')).resolves.toMatchObject({
      status: 'NOT_ACTIVE',
      remainingMb: 767,
      totalMb: 2048,
    });
    await expect(h.client.getUsage('2')).resolves.toMatchObject({ status: 'UNKNOWN' });
  });

  it('accepts a top-level iccid on order list items', async () => {
    const h = setup('airalo');
    const body = {
      data: [
        {
          id: 1,
          code: 'C1',
          package_id: 'p',
          price: 5,
          currency: 'EUR',
          created_at: '2025-11-18 13:37:07',
          iccid: '8944465400000267221',
        },
      ],
      meta: { message: 'success', current_page: '2', last_page: '3', per_page: '1', total: '3' },
    };
    h.reply('GET', '/orders?include=sims&limit=1&page=2', 200, JSON.stringify(body));
    await expect(h.client.listOrders({ limit: 1, page: 2 })).resolves.toEqual({
      items: [expect.objectContaining({ id: '1', iccid: '8944465400000267221', currency: 'EUR', price: '5.00' })],
      page: { currentPage: 2, lastPage: 3, perPage: 1, total: 3 },
    });
  });

  it('percent-encodes path parameters', async () => {
    const h = setup('airalo');
    h.reply('GET', '/sims/..%2Fbalance/usage', 404, fixture(airalo, 'usage.404'));
    await expect(h.client.getUsage('../balance')).rejects.toMatchObject({ name: 'UpstreamNotFoundError' });
  });
});
