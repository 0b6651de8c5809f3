/**
 * For each endpoint, the sandbox's response has the keys and value types of the documented example
 * (Airalo: the OpenAPI export; PressOne: the seed pages). Extra keys in the sandbox are allowed (documented
 * newer fields); null on either side matches anything, as the docs use null for "absent".
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { airalo, fixture, pressone, stripDocComments } from '../upstream/helpers.ts';
import { type Harness, startHarness, TOKEN_FIELDS } from './helpers.ts';

// The documented examples live in the repository, copied verbatim (test/upstream/fixtures/, each file's `_source`).
const example = (key: string): unknown => JSON.parse(stripDocComments(fixture(airalo, key)));
function seedExample(key: string): unknown {
  const parsed = JSON.parse(stripDocComments(fixture(pressone, key))) as { data: unknown };
  // Only `data` is the contract of the seed page's top-up list example.
  return key === 'topups.200' ? { data: parsed.data } : parsed;
}

function typeOf(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

/** Paths where the sandbox's shape differs from the documented example: empty list. */
function shapeDiff(expected: unknown, actual: unknown, at = '$'): string[] {
  const te = typeOf(expected);
  const ta = typeOf(actual);
  if (te === 'null' || ta === 'null') return [];
  if (te !== ta) return [`${at}: expected ${te}, got ${ta}`];
  if (te === 'array') {
    const e = expected as unknown[];
    const a = actual as unknown[];
    if (e.length === 0) return [];
    if (a.length === 0) return [`${at}: expected a non-empty array`];
    return shapeDiff(e[0], a[0], `${at}[0]`);
  }
  if (te === 'object') {
    const out: string[] = [];
    for (const [key, value] of Object.entries(expected as Record<string, unknown>)) {
      if (!(key in (actual as object))) out.push(`${at}.${key}: missing`);
      else out.push(...shapeDiff(value, (actual as Record<string, unknown>)[key], `${at}.${key}`));
    }
    return out;
  }
  return [];
}

let h: Harness;
let active: string;
let recycled: string;
beforeAll(async () => {
  h = await startHarness();
  active = h.sandbox.control
    .iccids({ status: 'ACTIVE', hasTopups: true })
    .find((i) => h.sandbox.control.topupPackageIds(i)[0]!.startsWith('bonbon'))!;
  recycled = h.sandbox.control.iccids({ status: 'RECYCLED' })[0]!;
});
afterAll(() => h.sandbox.close());

describe('response shapes match the documented examples', () => {
  const cases: Array<[name: string, expected: () => unknown, actual: () => Promise<unknown>]> = [
    ['token 200', () => example('token.200'), async () => (await h.post('/v2/token', TOKEN_FIELDS, null)).json],
    [
      'token 422',
      () => example('token.422'),
      async () =>
        (await h.post('/v2/token', { client_id: 'x', client_secret: 'y', grant_type: 'client_credentials' }, null))
          .json,
    ],
    ['balance (airalo)', () => example('balance.200'), async () => (await h.get('/v2/balance')).json],
    [
      'balance (pressone seed 000)',
      () => seedExample('balance.200'),
      async () => (await h.get('/customer/v2/balance')).json,
    ],
    [
      'sims list',
      () => example('sims.200'),
      async () => (await h.get('/v2/sims?limit=5&include=order,order.status,order.user,share')).json,
    ],
    [
      'sim',
      () => example('sim.200'),
      async () => (await h.get(`/v2/sims/${recycled}?include=order,order.status,order.user,share`)).json,
    ],
    ['usage (airalo)', () => example('usage.200'), async () => (await h.get(`/v2/sims/${active}/usage`)).json],
    [
      'usage (pressone seed 003)',
      () => seedExample('usage.200'),
      async () => (await h.get(`/cusomter/v2/sims/${active}/usage`)).json,
    ],
    [
      'usage recycled',
      () => example('usage.200-recycled'),
      async () => (await h.get(`/v2/sims/${recycled}/usage`)).json,
    ],
    ['usage 404', () => example('usage.404'), async () => (await h.get('/v2/sims/8999999999999999999/usage')).json],
    ['topups (airalo)', () => example('topups.200'), async () => (await h.get(`/v2/sims/${active}/topups`)).json],
    [
      'topups (pressone seed 002)',
      () => seedExample('topups.200'),
      async () => (await h.get(`/customer/v2/sims/${active}/topups`)).json,
    ],
    [
      'topups recycled',
      () => example('topups.422-recycled'),
      async () => (await h.get(`/v2/sims/${recycled}/topups`)).json,
    ],
    [
      'topups not found',
      () => example('topups.200-not-found'),
      async () => (await h.get('/v2/sims/8999999999999999999/topups')).json,
    ],
    ['history (airalo)', () => example('packages.200'), async () => (await h.get(`/v2/sims/${active}/packages`)).json],
    [
      'history (pressone seed 004)',
      () => seedExample('packages.200'),
      async () =>
        (
          await h.get(
            `/customer/v2/sims/${h.sandbox.control.iccids({ status: 'ACTIVE', hasTopups: true }).find((i) => i !== active)}/packages`,
          )
        ).json,
    ],
    [
      'history 429',
      () => example('packages.429'),
      async () => {
        // Airalo allows 10 history reads a minute per ICCID (one was spent above): read until refused.
        for (let i = 0; i < 10; i++) {
          const res = await h.get(`/v2/sims/${active}/packages`);
          if (res.status === 429) return res.json;
        }
        throw new Error('history was never limited');
      },
    ],
    [
      'submit top-up 200',
      () => example('submitTopup.200'),
      async () =>
        (
          await h.post('/v2/orders/topups', {
            iccid: active,
            package_id: h.sandbox.control.topupPackageIds(active)[0],
            description: 'shape',
          })
        ).json,
    ],
    [
      'submit top-up 422 fields',
      () => example('submitTopup.422-missing'),
      async () => (await h.post('/v2/orders/topups', {})).json,
    ],
    [
      'submit top-up 422 package',
      () => example('submitTopup.422-invalid-package'),
      async () => (await h.post('/v2/orders/topups', { iccid: active, package_id: 'nope' })).json,
    ],
    [
      'submit top-up 422 recycled',
      () => example('submitTopup.422-recycled'),
      async () => (await h.post('/v2/orders/topups', { iccid: recycled, package_id: 'nope' })).json,
    ],
    [
      'orders list',
      () => example('orders.200'),
      async () => (await h.get('/v2/orders?limit=5&include=sims,user,status')).json,
    ],
    [
      'order',
      () => example('order.200'),
      async () =>
        (await h.get(`/v2/orders/${h.sandbox.control.orders()[0]?.id ?? 9001}?include=sims,user,status`)).json,
    ],
    ['order 401', () => example('order.401'), async () => (await h.get('/v2/orders/9001', 'bad-token')).json],
  ];
  for (const [name, expected, actual] of cases) {
    it(name, async () => {
      const doc = expected();
      expect(doc).toBeTypeOf('object');
      expect(shapeDiff(doc, await actual())).toEqual([]);
    });
  }
});
