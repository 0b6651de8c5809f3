import { afterEach, describe, expect, it } from 'vitest';
import {
  UpstreamAuthError,
  UpstreamBadResponseError,
  UpstreamBusinessError,
  UpstreamError,
  UpstreamNotFoundError,
  UpstreamRateLimitedError,
  UpstreamUnavailableError,
  UpstreamValidationError,
} from '../../src/upstream/index.ts';
import { ACCESS_TOKEN, airalo, CLIENT_SECRET, createHarness, fixture, type Harness, pressone } from './helpers.ts';

const ICCID = '8910300000005271146';

let harness: Harness | undefined;
afterEach(async () => {
  harness?.agent.assertNoPendingInterceptors();
  await harness?.close();
  harness = undefined;
});

function setup(flavour: 'pressone' | 'airalo' = 'airalo'): Harness {
  harness = createHarness(flavour);
  harness.serveTokens();
  return harness;
}

async function failure(promise: Promise<unknown>): Promise<UpstreamError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(UpstreamError);
    return error as UpstreamError;
  }
  throw new Error('expected the call to fail');
}

/** Business errors as upstream-api.md lists them (reason wording illustrative except 34 and 73, which are verbatim). */
const businessBodies: Array<[number, string]> = [
  [11, 'Insufficient Airalo Credit: your balance is 3.10 USD, the order costs 10.00 USD.'],
  [13, 'The operator is currently in maintenance mode. Please try again later.'],
  [23, 'Top-up is disabled by the operator for this eSIM.'],
  [34, 'The requested eSIM package is invalid or it is currently out of stock. Please try again later.'],
];

describe('not found', () => {
  it('maps a 404 to UpstreamNotFoundError', async () => {
    const h = setup();
    h.reply('GET', `/sims/${ICCID}/usage`, 404, fixture(airalo, 'usage.404'));
    const error = await failure(h.client.getUsage(ICCID));
    expect(error).toBeInstanceOf(UpstreamNotFoundError);
    expect(error).toMatchObject({ endpoint: 'usage', status: 404 });
  });

  it("treats the top-up list's 200 with the not-found body as not found (not as an empty list)", async () => {
    const h = setup('pressone');
    h.reply('GET', `/sims/${ICCID}/topups`, 200, fixture(airalo, 'topups.200-not-found'), { 'content-type': '*/*' });
    const error = await failure(h.client.getTopups(ICCID));
    expect(error).toBeInstanceOf(UpstreamNotFoundError);
    expect(error).toMatchObject({ endpoint: 'topups', status: 200 });
  });

  it('treats the same body with status 404 as not found', async () => {
    const h = setup('pressone');
    h.reply('GET', `/sims/${ICCID}/packages`, 404, fixture(airalo, 'topups.200-not-found'));
    await expect(h.client.getPackageHistory(ICCID)).rejects.toBeInstanceOf(UpstreamNotFoundError);
  });
});

describe('422 answers', () => {
  it.each([
    ['top-up list', 'topups.422-recycled'],
    ['submit', 'submitTopup.422-recycled'],
  ])('maps the recycled-SIM answer of the %s to business code 73, reason kept out of the message', async (_, key) => {
    const h = setup();
    if (key.startsWith('topups')) h.reply('GET', `/sims/${ICCID}/topups`, 422, fixture(airalo, key));
    else h.reply('POST', '/orders/topups', 422, fixture(airalo, key));
    const error = await failure(
      key.startsWith('topups')
        ? h.client.getTopups(ICCID)
        : h.client.submitTopup({ iccid: '89340000000000872', packageId: 'p' }),
    );
    expect(error).toBeInstanceOf(UpstreamBusinessError);
    const business = error as UpstreamBusinessError;
    expect(business.code).toBe(73);
    expect(business.reason).toMatch(/has been recycled/);
    expect(business.message).not.toContain('recycled. It can no longer');
    expect(business.message).not.toMatch(/8910300000005271146|89340000000000872/);
  });

  it.each(businessBodies)('maps business code %i on submit to UpstreamBusinessError', async (code, reason) => {
    const h = setup('pressone');
    h.reply('POST', '/orders/topups', 422, JSON.stringify({ code, reason }));
    const error = await failure(h.client.submitTopup({ iccid: ICCID, packageId: 'some-package' }));
    expect(error).toBeInstanceOf(UpstreamBusinessError);
    expect(error).toMatchObject({ code, reason, endpoint: 'submitTopup', status: 422 });
    expect(error.message).not.toContain(reason);
    // Exactly one POST: business refusals are final.
    expect(h.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/orders/topups'))).toHaveLength(1);
  });

  it.each([
    ['submitTopup.422-invalid-package', { package_id: 'invalid topup package' }],
    [
      'submitTopup.422-missing',
      { iccid: 'The iccid field is required.', package_id: 'The package id field is required.' },
    ],
    ['submitTopup.422-limit', { package_id: 'validation.order_exceed_limit' }],
  ])('maps validation body %s to UpstreamValidationError with per-field messages', async (key, fields) => {
    const h = setup();
    h.reply('POST', '/orders/topups', 422, fixture(airalo, key));
    const error = await failure(h.client.submitTopup({ iccid: ICCID, packageId: 'x' }));
    expect(error).toBeInstanceOf(UpstreamValidationError);
    expect((error as UpstreamValidationError).fields).toEqual(fields);
    for (const message of Object.values(fields)) expect(error.message).not.toContain(message);
  });
});

describe('429 Too Many Attempts', () => {
  it('reads Retry-After in seconds, not capped (15 minutes for package history)', async () => {
    const h = setup('pressone');
    h.reply('GET', `/sims/${ICCID}/packages`, 429, fixture(airalo, 'packages.429'), {
      'content-type': 'application/json',
      'retry-after': '900',
    });
    const error = await failure(h.client.getPackageHistory(ICCID));
    expect(error).toBeInstanceOf(UpstreamRateLimitedError);
    expect((error as UpstreamRateLimitedError).retryAfterSeconds).toBe(900);
  });

  it('reads Retry-After as an HTTP-date relative to the injected clock', async () => {
    const h = setup();
    const at = new Date(h.clock.now() + 45_000).toUTCString();
    h.reply('GET', `/sims/${ICCID}/usage`, 429, fixture(airalo, 'usage.429'), { 'retry-after': at });
    const error = (await failure(h.client.getUsage(ICCID))) as UpstreamRateLimitedError;
    expect(error).toBeInstanceOf(UpstreamRateLimitedError);
    expect(error.retryAfterSeconds).toBe(45);
  });

  it('falls back to X-RateLimit-Reset (epoch seconds), then to 60', async () => {
    const h = setup();
    const resetAt = Math.floor(h.clock.now() / 1000) + 37;
    h.reply('GET', `/sims/${ICCID}/usage`, 429, fixture(airalo, 'usage.429'), {
      'x-ratelimit-limit': '100',
      'x-ratelimit-remaining': '0',
      'x-ratelimit-reset': String(resetAt),
    });
    h.reply('GET', `/sims/${ICCID}/usage`, 429, fixture(airalo, 'usage.429'));
    expect(((await failure(h.client.getUsage(ICCID))) as UpstreamRateLimitedError).retryAfterSeconds).toBe(37);
    expect(((await failure(h.client.getUsage(ICCID))) as UpstreamRateLimitedError).retryAfterSeconds).toBe(60);
  });
});

describe('bad responses', () => {
  it("rejects a body that is not JSON (the docs' usage example, with its inline // comment)", async () => {
    const h = setup('pressone');
    h.reply('GET', `/sims/${ICCID}/usage`, 200, fixture(pressone, 'usage.200'));
    const error = await failure(h.client.getUsage(ICCID));
    expect(error).toBeInstanceOf(UpstreamBadResponseError);
    expect(error.message).toBe('upstream usage: unexpected response (body is not JSON)');
  });

  it('rejects HTML from a proxy', async () => {
    const h = setup();
    h.reply('GET', '/balance', 200, '<html><body>gateway says hi</body></html>', { 'content-type': 'text/html' });
    await expect(h.client.getBalance()).rejects.toBeInstanceOf(UpstreamBadResponseError);
  });

  it('rejects a wrong shape with a zod summary that does not echo the body', async () => {
    const h = setup();
    const secretish = 'customer-jane@example.com';
    h.reply(
      'GET',
      `/sims/${ICCID}`,
      200,
      JSON.stringify({ data: { id: 1, iccid: null, created_at: secretish }, meta: { message: 'success' } }),
    );
    const error = await failure(h.client.getSim(ICCID));
    expect(error).toBeInstanceOf(UpstreamBadResponseError);
    expect(error.message).toContain('data.iccid');
    expect(error.message).not.toContain(secretish);
  });

  it('rejects an unparseable decimal', async () => {
    const h = setup();
    h.reply('GET', `/sims/${ICCID}/topups`, 200, JSON.stringify({ data: [{ id: 'x', title: 't', price: 'ten' }] }));
    const error = await failure(h.client.getTopups(ICCID));
    expect(error).toBeInstanceOf(UpstreamBadResponseError);
    expect(error.message).toContain('data.0.price: expected a decimal');
  });
});

describe('secrets', () => {
  it('never puts the access token, client secret or raw body in any error message', async () => {
    const h = setup();
    const raw = '{"data":[],"meta":{"message":"This action is unauthorized."}}';
    const errors: UpstreamError[] = [];
    h.reply('GET', '/orders/1?include=sims', 401, fixture(airalo, 'order.401'));
    h.reply('GET', '/orders/1?include=sims', 401, raw);
    errors.push(await failure(h.client.getOrder('1')));
    h.reply('GET', '/balance', 500, `{"error":"${ACCESS_TOKEN} ${CLIENT_SECRET}"}`);
    h.reply('GET', '/balance', 500, `{"error":"${ACCESS_TOKEN} ${CLIENT_SECRET}"}`);
    h.reply('GET', '/balance', 500, `{"error":"${ACCESS_TOKEN} ${CLIENT_SECRET}"}`);
    errors.push(await failure(h.client.getBalance()));
    h.reply('POST', '/orders/topups', 422, JSON.stringify({ code: 11, reason: `token ${ACCESS_TOKEN}` }));
    errors.push(await failure(h.client.submitTopup({ iccid: ICCID, packageId: 'p' })));
    h.reply('POST', '/orders/topups', 422, JSON.stringify({ data: { package_id: CLIENT_SECRET } }));
    errors.push(await failure(h.client.submitTopup({ iccid: ICCID, packageId: 'p' })));

    expect(errors.map((e) => e.constructor)).toEqual([
      UpstreamAuthError,
      UpstreamUnavailableError,
      UpstreamBusinessError,
      UpstreamValidationError,
    ]);
    for (const error of errors) {
      // `reason` / `fields` carry upstream prose on purpose (for logs); the message and stack never do.
      const text = `${error.message} ${error.stack ?? ''} ${String(error)}`;
      expect(text).not.toContain(ACCESS_TOKEN);
      expect(text).not.toContain(CLIENT_SECRET);
      expect(text).not.toContain(raw);
    }
  }, 10_000);
});
