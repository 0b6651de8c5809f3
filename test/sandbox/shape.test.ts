/**
 * For each endpoint, the sandbox's response has the keys and value types of the documented example
 * (Airalo: the OpenAPI export; PressOne: the seed pages). Extra keys in the sandbox are allowed (documented
 * newer fields); null on either side matches anything, as the docs use null for "absent".
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './helpers.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const referenceDir = path.resolve(repoRoot, '../shared/reference');
const seedsDir = path.resolve(repoRoot, '../shared/seeds');

function parseLoose(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  return JSON.parse(value.replace(/\/\/[^\n]*/g, ''));
}

const openapi = JSON.parse(readFileSync(path.join(referenceDir, 'airalo-partner-api.openapi.json'), 'utf8'));
function example(p: string, method: string, code: string): unknown {
  const content = openapi.paths[p][method].responses[code].content;
  const media = Object.values(content)[0] as { example?: unknown };
  return parseLoose(media.example);
}

function seedExample(prefix: string): unknown {
  const file = readdirSync(seedsDir).find((f) => f.startsWith(prefix))!;
  const text = readFileSync(path.join(seedsDir, file), 'utf8');
  const from = text.indexOf('{', text.indexOf('Response Example'));
  const to = text.lastIndexOf('}', text.indexOf('Modified at'));
  const parsed = parseLoose(text.slice(from, to + 1)) as any;
  return prefix === '002' ? { data: parsed.data } : parsed;
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
  active = h.sandbox.control.iccids({ status: 'ACTIVE', hasTopups: true }).find((i) => h.sandbox.control.topupPackageIds(i)[0]!.startsWith('bonbon'))!;
  recycled = h.sandbox.control.iccids({ status: 'RECYCLED' })[0]!;
});
afterAll(() => h.sandbox.close());

describe('response shapes match the documented examples', () => {
  const cases: Array<[name: string, expected: () => unknown, actual: () => Promise<unknown>]> = [
    ['token 200', () => example('/v2/token', 'post', '200'), async () => (await h.post('/v2/token', { client_id: 'sandbox-client-id', client_secret: 'sandbox-client-secret', grant_type: 'client_credentials' }, null)).json],
    ['token 422', () => example('/v2/token', 'post', '422'), async () => (await h.post('/v2/token', { client_id: 'x', client_secret: 'y', grant_type: 'client_credentials' }, null)).json],
    ['balance (airalo)', () => example('/v2/balance', 'get', '200'), async () => (await h.get('/v2/balance')).json],
    ['balance (pressone seed 000)', () => seedExample('000'), async () => (await h.get('/customer/v2/balance')).json],
    ['sims list', () => example('/v2/sims', 'get', '200'), async () => (await h.get('/v2/sims?limit=5&include=order,order.status,order.user,share')).json],
    ['sim', () => example('/v2/sims/{sim_iccid}', 'get', '200'), async () => (await h.get(`/v2/sims/${recycled}?include=order,order.status,order.user,share`)).json],
    ['usage (airalo)', () => example('/v2/sims/{sim_iccid}/usage', 'get', '200'), async () => (await h.get(`/v2/sims/${active}/usage`)).json],
    ['usage (pressone seed 003)', () => seedExample('003'), async () => (await h.get(`/cusomter/v2/sims/${active}/usage`)).json],
    ['usage recycled', () => example('/v2/sims/{sim_iccid}/usage', 'get', 'x-200:Get Usage (Recycled sim): 200'), async () => (await h.get(`/v2/sims/${recycled}/usage`)).json],
    ['usage 404', () => example('/v2/sims/{sim_iccid}/usage', 'get', '404'), async () => (await h.get('/v2/sims/8999999999999999999/usage')).json],
    ['topups (airalo)', () => example('/v2/sims/{iccid}/topups', 'get', '200'), async () => (await h.get(`/v2/sims/${active}/topups`)).json],
    ['topups (pressone seed 002)', () => seedExample('002'), async () => (await h.get(`/customer/v2/sims/${active}/topups`)).json],
    ['topups recycled', () => example('/v2/sims/{iccid}/topups', 'get', '422'), async () => (await h.get(`/v2/sims/${recycled}/topups`)).json],
    ['topups not found', () => example('/v2/sims/{iccid}/topups', 'get', 'x-200:eSIM: List available top-up packages: 404 (Invalid ICCID)'), async () => (await h.get('/v2/sims/8999999999999999999/topups')).json],
    ['history (airalo)', () => example('/v2/sims/{iccid}/packages', 'get', '200'), async () => (await h.get(`/v2/sims/${active}/packages`)).json],
    ['history (pressone seed 004)', () => seedExample('004'), async () => (await h.get(`/customer/v2/sims/${h.sandbox.control.iccids({ status: 'ACTIVE', hasTopups: true }).find((i) => i !== active)}/packages`)).json],
    ['history 429', () => example('/v2/sims/{iccid}/packages', 'get', '429'), async () => (await h.get(`/v2/sims/${active}/packages`)).json],
    ['submit top-up 200', () => example('/v2/orders/topups', 'post', '200'), async () => (await h.post('/v2/orders/topups', { iccid: active, package_id: h.sandbox.control.topupPackageIds(active)[0], description: 'shape' })).json],
    ['submit top-up 422 fields', () => example('/v2/orders/topups', 'post', 'x-422:Submit Top-up Order: 422 (Required fields are missing)'), async () => (await h.post('/v2/orders/topups', {})).json],
    ['submit top-up 422 package', () => example('/v2/orders/topups', 'post', 'x-422:Submit Top-up Order: 422 (Invalid package id)'), async () => (await h.post('/v2/orders/topups', { iccid: active, package_id: 'nope' })).json],
    ['submit top-up 422 recycled', () => example('/v2/orders/topups', 'post', 'x-422:Submit Top-up Order: 422 (Recycled sim)'), async () => (await h.post('/v2/orders/topups', { iccid: recycled, package_id: 'nope' })).json],
    ['orders list', () => example('/v2/orders', 'get', '200'), async () => (await h.get('/v2/orders?limit=5&include=sims,user,status')).json],
    ['order', () => example('/v2/orders/{order_id}', 'get', '200'), async () => (await h.get(`/v2/orders/${h.sandbox.control.orders()[0]?.id ?? 9001}?include=sims,user,status`)).json],
    ['order 401', () => example('/v2/orders/{order_id}', 'get', '401'), async () => (await h.get('/v2/orders/9001', 'bad-token')).json],
  ];
  for (const [name, expected, actual] of cases) {
    it(name, async () => {
      const doc = expected();
      expect(doc).toBeTypeOf('object');
      expect(shapeDiff(doc, await actual())).toEqual([]);
    });
  }
});
