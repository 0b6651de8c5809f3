/**
 * The fast paths of the hot models (usage, SIM details, top-ups, package history; src/upstream/models/*,
 * `withFastPath`): whatever the payload, the schema answers exactly what zod alone answers — and the payloads the
 * upstream actually sends (the docs' examples, the sandbox's answers for both flavours) take the fast path.
 * Property-style: every leaf of every payload replaced by each of a list of quirky values (numbers as strings, booleans
 * as 0/1/"TRUE ", dates in every accepted and a few refused spellings, empty strings, wrong types) or removed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSandbox, SANDBOX_CREDENTIALS, type Sandbox } from '../../src/sandbox/index.ts';
import { fastRead, generalIsoUtc, MISMATCH, toIsoUtc, zodSafeParse } from '../../src/upstream/models/conversions.ts';
import {
  historyResponseSchema,
  simResponseSchema,
  topupsResponseSchema,
  usageResponseSchema,
} from '../../src/upstream/models/index.ts';
import { airalo, pressone, stripDocComments } from './helpers.ts';

const SCHEMAS = {
  sim: simResponseSchema,
  usage: usageResponseSchema,
  topups: topupsResponseSchema,
  packages: historyResponseSchema,
} as const;
type Endpoint = keyof typeof SCHEMAS;

/** The upstream's answers for each endpoint: the docs' 200 examples, then the sandbox's for both flavours. */
const payloads: Record<Endpoint, unknown[]> = { sim: [], usage: [], topups: [], packages: [] };

let sandbox: Sandbox;
beforeAll(async () => {
  for (const set of [airalo, pressone])
    for (const [key, text] of Object.entries(set)) {
      const [endpoint, status] = key.split('.') as [string, string];
      if (endpoint in SCHEMAS && status.startsWith('200')) {
        const json = JSON.parse(stripDocComments(text)) as { data?: unknown };
        // The 200-with-not-found body is answered before any schema (isNotFoundBody).
        if (!(Array.isArray(json.data) && json.data.length === 0 && 'meta' in json))
          payloads[endpoint as Endpoint].push(json);
      }
    }
  sandbox = await createSandbox({ credentials: SANDBOX_CREDENTIALS, simCount: 120 });
  for (const base of ['/customer/v2', '/v2']) {
    const token = await fetch(`${sandbox.url}${base}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        client_id: SANDBOX_CREDENTIALS.clientId,
        client_secret: SANDBOX_CREDENTIALS.clientSecret,
        grant_type: 'client_credentials',
      }),
    }).then((r) => r.json() as Promise<{ data: { access_token: string } }>);
    const headers = { authorization: `Bearer ${token.data.access_token}`, accept: 'application/json' };
    for (const iccid of sandbox.control.iccids().slice(0, 60)) {
      for (const [endpoint, suffix] of [
        ['sim', ''],
        ['usage', '/usage'],
        ['topups', '/topups'],
        ['packages', '/packages'],
      ] as const) {
        const response = await fetch(`${sandbox.url}${base}/sims/${iccid}${suffix}`, { headers });
        const json = (await response.json()) as { data?: unknown };
        if (response.status === 200 && !(Array.isArray(json.data) && json.data.length === 0 && 'meta' in json))
          payloads[endpoint].push(json);
      }
    }
  }
}, 60_000);
afterAll(() => sandbox?.close());

/** Values a field may come as, from the documented quirks to plain garbage. */
const QUIRKS: unknown[] = [
  null,
  '',
  ' ',
  '12',
  ' 12 ',
  '12.50',
  '1e3',
  '0x10',
  'abc',
  0,
  1,
  -1,
  2.5,
  1e-7,
  true,
  false,
  'true',
  'TRUE ',
  'false',
  '0',
  '1',
  'yes',
  '2026-01-02',
  '2026-01-02 03:04:05',
  '2026-01-02T03:04:05+0200',
  '2026-01-02 03:04:05 Z',
  '0000-00-00 00:00:00',
  '2026-13-45 99:99:99',
  'initial',
  ' TOPUP ',
  'sim',
  'bundle',
  'active',
  'Not-Active',
  {},
  { slug: 'completed' },
  { name: 'Pending', slug: null },
  { slug: 3 },
  [],
  [1],
];

/** Every leaf path of a JSON value (objects and arrays descended). */
function leafPaths(value: unknown, path: (string | number)[] = []): (string | number)[][] {
  if (Array.isArray(value)) return value.flatMap((v, i) => leafPaths(v, [...path, i])).concat([path]);
  if (value !== null && typeof value === 'object')
    return Object.entries(value)
      .flatMap(([k, v]) => leafPaths(v, [...path, k]))
      .concat([path]);
  return [path];
}

function withValue(json: unknown, path: (string | number)[], value: unknown, remove = false): unknown {
  const copy = structuredClone(json) as Record<string | number, unknown>;
  if (path.length === 0) return value;
  let parent: Record<string | number, unknown> = copy;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  if (remove) delete parent[last];
  else parent[last] = value;
  return copy;
}

/** The schema's answer must be zod's: same success, same data, or the same issues. */
function expectSameAsZod(endpoint: Endpoint, input: unknown): boolean {
  const schema = SCHEMAS[endpoint];
  const actual = schema.safeParse(input);
  const expected = zodSafeParse(schema, input);
  expect(actual.success, JSON.stringify(input).slice(0, 300)).toBe(expected.success);
  if (expected.success) expect(actual.data, JSON.stringify(input).slice(0, 300)).toStrictEqual(expected.data);
  else expect(actual.error?.issues).toStrictEqual(expected.error.issues);
  return fastRead(schema, input) !== MISMATCH;
}

describe('fast paths of the hot models', () => {
  it('take the upstream answers as they come (docs examples, sandbox for both flavours) and answer like zod', () => {
    for (const endpoint of Object.keys(SCHEMAS) as Endpoint[]) {
      expect(payloads[endpoint].length, endpoint).toBeGreaterThan(10);
      for (const json of payloads[endpoint]) expect(expectSameAsZod(endpoint, json), endpoint).toBe(true);
    }
  });

  it('answer like zod for every field of every payload replaced by a quirky value or removed', () => {
    let fast = 0;
    let cases = 0;
    for (const endpoint of Object.keys(SCHEMAS) as Endpoint[]) {
      // A few payloads per endpoint, every leaf of them (the sandbox's vary by SIM kind and flavour).
      const sample = payloads[endpoint].filter((_, i) => i % 7 === 0).slice(0, 6);
      for (const json of sample) {
        for (const path of leafPaths(json)) {
          for (const value of QUIRKS) {
            cases++;
            if (expectSameAsZod(endpoint, withValue(json, path, value))) fast++;
          }
          if (path.length > 0) {
            cases++;
            if (expectSameAsZod(endpoint, withValue(json, path, undefined, true))) fast++;
          }
        }
      }
    }
    // Both paths exercised: most quirks are accepted and normalised, some are refused.
    expect(fast).toBeGreaterThan(cases / 4);
    expect(fast).toBeLessThan(cases);
  });

  it('convert the usual date spellings without the general parser, to exactly what it returns', () => {
    const samples: string[] = [];
    for (const year of ['0999', '1000', '1970', '2026', '9999'])
      for (const month of ['00', '01', '02', '09', '12', '13'])
        for (const day of ['00', '01', '28', '29', '30', '31', '32'])
          for (const time of ['00:00:00', '23:59:59', '24:00:00', '12:60:00', '12:00:60', '7:00:00'])
            for (const [sep, end] of [
              [' ', ''],
              ['T', ''],
              ['T', 'Z'],
              [' ', 'Z'],
              ['t', ''],
              ['T', 'z'],
              [' ', ' '],
            ])
              samples.push(`${year}-${month}-${day}${sep}${time}${end}`);
    samples.push('2026-0a-01 00:00:00', '2026/01/01 00:00:00', ' 2026-01-01 00:00:00', '2026-01-01 00:00:00.5');
    for (const text of samples) {
      const general = (() => {
        try {
          return generalIsoUtc(text);
        } catch {
          return 'throws';
        }
      })();
      const actual = (() => {
        try {
          return toIsoUtc(text);
        } catch {
          return 'throws';
        }
      })();
      expect(actual, text).toBe(general);
    }
  });

  it('leave what they do not accept to zod, which reports the issue', () => {
    const bad = usageResponseSchema.safeParse({ data: { remaining: 'lots' } });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]).toMatchObject({ path: ['data', 'remaining'], message: 'expected a number' });
    expect(() => simResponseSchema.parse({ data: { id: '', iccid: '1' } })).toThrow();
    expect(topupsResponseSchema.parse({ data: [] })).toEqual([]);
  });
});
