/**
 * @defer and @stream through the whole Yoga pipeline (`yoga.fetch`), with graphql-jit on and off: what a frontend
 * receives (the page first, then one entry per SIM, `hasNext: false` last), errors inside a deferred fragment, what is
 * refused before anything runs, what is not prefetched, and that every protection (query limits, CSRF, auth, CORS,
 * persisted documents) applies to incremental requests too. The HTTP edge over a real socket:
 * defer-stream-http.test.ts; which fields count as deferred: defer-mode.test.ts.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { graphql } from '../__generated__/gql.ts';
import { type Harness, startHarness } from '../support/harness.ts';
import { type Payload, readAll } from '../support/incremental.ts';

const DeferredUsage = graphql(`
  query DeferredUsage($first: Int!) {
    simList(first: $first) {
      totalCount
      nodes {
        iccid
        ... @defer(label: "usage") {
          usage {
            status
            remainingMb
            totalMb
            fetchedAt
            stale
          }
        }
      }
    }
  }
`);

const PlainUsage = graphql(`
  query PlainUsage($first: Int!) {
    simList(first: $first) {
      nodes {
        iccid
        usage {
          status
          remainingMb
          totalMb
          fetchedAt
          stale
        }
      }
    }
  }
`);

const StreamedSims = graphql(`
  query StreamedSims($iccids: [ID!]!) {
    sims(iccids: $iccids) @stream(initialCount: 5) {
      iccid
      usage {
        status
      }
    }
  }
`);

const MaybeDeferred = graphql(`
  query MaybeDeferred($first: Int!, $defer: Boolean!) {
    simList(first: $first) {
      nodes {
        iccid
        ... @defer(if: $defer) {
          usage {
            status
          }
        }
      }
    }
  }
`);

const MANIFEST = fileURLToPath(new URL('../__generated__/persisted-documents.json', import.meta.url));
const KEY = 'partner-a-key-0123456789abcdefghij';
/** What Apollo Client sends for every query; urql's fetch exchange sends the same types. */
const ACCEPT = 'multipart/mixed;deferSpec=20220824, application/json';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

function post(
  harness: Harness,
  document: { toString(): string } | undefined,
  variables: Record<string, unknown> = {},
  headers: Record<string, string> = {},
  extra: Record<string, unknown> = {},
): Promise<Response> {
  const body = JSON.stringify({ ...(document ? { query: document.toString() } : {}), variables, ...extra });
  return harness.fetch('/graphql', {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: ACCEPT,
      'content-length': String(Buffer.byteLength(body)),
      ...headers,
    },
    body,
  });
}

/** Every `incremental` entry of the payloads after the first, in arrival order. */
const entries = (payloads: Payload[]) => payloads.slice(1).flatMap((p) => p.incremental ?? []);

/** The payloads say `hasNext: true` until the last, which says false. */
function expectHasNextUntilTheLast(payloads: Payload[]) {
  expect(payloads.length).toBeGreaterThan(1);
  expect(payloads.slice(0, -1).every((p) => p.hasNext === true)).toBe(true);
  expect(payloads.at(-1)!.hasNext).toBe(false);
}

const upstreamCalls = (endpoint: 'sims' | 'sim' | 'usage') => h!.sandbox.control.countCalls({ endpoint });

describe.each([
  ['graphql-jit on', 'true'],
  ['graphql-jit off', 'false'],
])('incremental delivery (%s)', (_name, jit) => {
  it('a 25-SIM page with deferred usage: the page without usage first, then one entry per SIM with its usage, hasNext false last', async () => {
    h = await startHarness({ env: { GRAPHQL_JIT: jit } });
    const response = await post(h, DeferredUsage, { first: 25 });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^multipart\/mixed/);
    const payloads = await readAll(response);

    const [first] = payloads;
    expect(first!.errors).toBeUndefined();
    const nodes = first!.data!.simList.nodes as { iccid: string }[];
    expect(first!.data!.simList.totalCount).toBe(50);
    expect(nodes).toHaveLength(25);
    for (const node of nodes) expect(Object.keys(node)).toEqual(['iccid']); // no usage in the page

    const deferred = entries(payloads);
    expect(deferred).toHaveLength(25);
    expect(deferred.map((e) => e.path[2]).sort((a, b) => Number(a) - Number(b))).toEqual([...Array(25).keys()]);
    for (const entry of deferred) {
      expect(entry.path.slice(0, 2)).toEqual(['simList', 'nodes']);
      expect(entry.label).toBe('usage');
      expect(entry.errors).toBeUndefined();
      expect(entry.data!.usage.status).toEqual(expect.any(String));
    }
    expectHasNextUntilTheLast(payloads);
    expect(upstreamCalls('sims')).toBe(1);
    expect(upstreamCalls('usage')).toBe(25);

    // The same values a plain query answers (now from the cache: no further upstream call).
    const plain = await h.gql(PlainUsage, { first: 25 });
    const byIndex = new Map(deferred.map((e) => [e.path[2], e.data!.usage]));
    plain.data!.simList!.nodes.forEach((node, i) => {
      expect(node.iccid).toBe(nodes[i]!.iccid);
      expect(byIndex.get(i)).toEqual(node.usage);
    });
    expect(upstreamCalls('usage')).toBe(25);
  });

  it('@stream: sims(iccids:) sends initialCount SIMs first, then each further SIM as an item of its own entry', async () => {
    h = await startHarness({ env: { GRAPHQL_JIT: jit } });
    const iccids = h.sandbox.control.iccids().slice(0, 25);
    const payloads = await readAll(await post(h, StreamedSims, { iccids }));

    expect(payloads[0]!.data!.sims.map((s: { iccid: string }) => s.iccid)).toEqual(iccids.slice(0, 5));
    const streamed = entries(payloads);
    expect(streamed).toHaveLength(20);
    for (const [n, entry] of streamed.entries()) {
      expect(entry.path).toEqual(['sims', 5 + n]); // in list order
      expect(entry.items).toEqual([{ iccid: iccids[5 + n], usage: { status: expect.any(String) } }]);
    }
    expectHasNextUntilTheLast(payloads);
  });

  it("an error inside a deferred fragment (RATE_LIMITED) arrives in that fragment's entry with its code and retryAfterSeconds", async () => {
    h = await startHarness({ env: { GRAPHQL_JIT: jit } });
    const page = await h.gql('{ simList(first: 25) { nodes { iccid } } }');
    const limited = 7;
    const iccid = page.data.simList.nodes[limited].iccid as string;
    h.sandbox.control.addFault({ endpoint: 'usage', iccid, rateLimit: { retryAfterSeconds: 120 } });

    const payloads = await readAll(await post(h, DeferredUsage, { first: 25 }));
    expect(payloads[0]!.errors).toBeUndefined(); // the page is intact
    const deferred = entries(payloads);
    expect(deferred).toHaveLength(25);
    const entry = deferred.find((e) => e.path[2] === limited)!;
    expect(entry.data).toEqual({ usage: null });
    expect(entry.errors).toEqual([
      expect.objectContaining({
        path: ['simList', 'nodes', limited, 'usage'],
        extensions: { code: 'RATE_LIMITED', retryAfterSeconds: 120 },
      }),
    ]);
    expect(deferred.filter((e) => e.errors)).toHaveLength(1);
    expectHasNextUntilTheLast(payloads);
  });

  it('@defer(if: false) is one JSON result with everything in it, also for a client that accepts only JSON', async () => {
    h = await startHarness({ env: { GRAPHQL_JIT: jit } });
    const result = await h.gql(MaybeDeferred, { first: 3, defer: false });
    expect(result.status).toBe(200);
    expect(result.errors).toBeUndefined();
    for (const node of result.data!.simList!.nodes) expect(node.usage?.status).toEqual(expect.any(String));

    const deferred = await readAll(await post(h, MaybeDeferred, { first: 3, defer: true }));
    expect(Object.keys(deferred[0]!.data!.simList.nodes[0])).toEqual(['iccid']);
    expect(entries(deferred)).toHaveLength(3);
  });
});

describe('refused before anything runs', () => {
  it('a request that accepts only JSON → 406 naming the Accept header; in a batch → that operation refused; no upstream call', async () => {
    h = await startHarness();
    const json = await post(h, DeferredUsage, { first: 25 }, { accept: 'application/json' });
    expect(json.status).toBe(406);
    const body = (await json.json()) as Payload;
    expect(body.errors).toEqual([
      expect.objectContaining({
        message: expect.stringContaining('multipart/mixed'),
        extensions: { code: 'BAD_USER_INPUT' },
      }),
    ]);

    const batch = JSON.stringify([
      { query: DeferredUsage.toString(), variables: { first: 2 } },
      { query: '{ simList(first: 1) { totalCount } }' },
    ]);
    const batched = await h.fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: ACCEPT, 'content-length': String(batch.length) },
      body: batch,
    });
    const [deferred, plain] = (await batched.json()) as Payload[];
    expect(deferred!.errors).toEqual([
      expect.objectContaining({ message: expect.stringContaining('batched'), extensions: { code: 'BAD_USER_INPUT' } }),
    ]);
    expect(plain!.data).toEqual({ simList: { totalCount: 50 } });
    expect(upstreamCalls('usage')).toBe(0);
    expect(upstreamCalls('sims')).toBe(1); // the batch's other operation
  });
});

describe('prefetching', () => {
  /** The order in which the sandbox answered SIM details and usage reads. */
  const answered = () =>
    h!.sandbox.control
      .calls()
      .filter((c) => c.endpoint === 'sim' || c.endpoint === 'usage')
      .map((c) => c.endpoint);

  it('a resource selected only under @defer is not read for the first payload: no usage read starts before every SIM is loaded', async () => {
    h = await startHarness();
    const iccids = h.sandbox.control.iccids().slice(0, 25);
    // One SIM's details are slow: a prefetched usage read would be answered meanwhile.
    h.sandbox.control.addFault({ endpoint: 'sim', iccid: iccids[3], latencyMs: 300 });
    const query = `query ($iccids: [ID!]!) { sims(iccids: $iccids) { iccid ... @defer { usage { status } } } }`;
    const payloads = await readAll(await post(h, query, { iccids }));
    expect(entries(payloads)).toHaveLength(25);
    const order = answered();
    expect(order.filter((e) => e === 'sim')).toHaveLength(25);
    expect(order.lastIndexOf('sim')).toBeLessThan(order.indexOf('usage'));
  });

  it('the same selection without @defer is prefetched alongside the existence check (what the test above rules out)', async () => {
    h = await startHarness();
    const iccids = h.sandbox.control.iccids().slice(0, 25);
    h.sandbox.control.addFault({ endpoint: 'sim', iccid: iccids[3], latencyMs: 300 });
    const result = await h.gql(`query ($iccids: [ID!]!) { sims(iccids: $iccids) { iccid usage { status } } }`, {
      iccids,
    });
    expect(result.errors).toBeUndefined();
    const order = answered();
    expect(order.indexOf('usage')).toBeLessThan(order.lastIndexOf('sim'));
  });
});

describe('protections apply to incremental requests', () => {
  const codeOf = async (response: Response) => ((await response.json()) as Payload).errors?.[0]?.extensions?.code;

  it('the cost, depth, alias and directive limits count deferred fragments (inline or spread) as they count any fragment', async () => {
    h = await startHarness({
      env: { MAX_QUERY_DEPTH: '5', MAX_QUERY_ALIASES: '2', MAX_QUERY_DIRECTIVES: '3', MAX_QUERY_COST: '100' },
    });
    const messages = async (query: string) => {
      const body = (await (await post(h!, query)).json()) as Payload;
      return body.errors?.map((e) => [e.extensions?.code, e.message]);
    };
    const ok = await post(h, '{ simList(first: 2) { nodes { iccid ... @defer { recycled } } } }');
    expect(entries(await readAll(ok))).toHaveLength(2);

    // [deferred, the same without @defer]: refused alike, with the same measure.
    const pairs = [
      [
        '{ simList(first: 10) { nodes { iccid ... @defer { recycled lpa matchingId apnType } } } }',
        '{ simList(first: 10) { nodes { iccid ... { recycled lpa matchingId apnType } } } }',
      ],
      [
        'fragment U on Sim { usage { status } } { simList(first: 2) { nodes { iccid ...U @defer } } }',
        'fragment U on Sim { usage { status } } { simList(first: 2) { nodes { iccid ...U } } }',
      ],
      [
        '{ simList(first: 2) { nodes { ... @defer { a: iccid b: iccid c: iccid } } } }',
        '{ simList(first: 2) { nodes { ... { a: iccid b: iccid c: iccid } } } }',
      ],
    ];
    for (const [deferred, plain] of pairs) {
      const refusal = await messages(deferred!);
      expect(refusal, deferred).toEqual([['QUERY_TOO_COMPLEX', expect.stringMatching(/cost|depth|[Aa]liases/)]]);
      expect(await messages(plain!)).toEqual(refusal);
    }
    // Each @defer is a directive.
    expect(
      await messages(
        '{ simList(first: 2) { nodes { ... @defer { iccid } ... @defer { lpa } ... @defer { a: lpa } ... @defer { b: lpa } } } }',
      ),
    ).toEqual([['QUERY_TOO_COMPLEX', expect.stringContaining('irectives')]]);
    expect(upstreamCalls('sims')).toBe(1); // the accepted query only
  });

  it('CSRF: a GET with @defer needs x-graphql-csrf; with it the parts stream', async () => {
    h = await startHarness();
    const url = `/graphql?query=${encodeURIComponent('{ simList(first: 2) { nodes { iccid ... @defer { usage { status } } } } }')}`;
    const bare = await h.fetch(url, { headers: { accept: ACCEPT } });
    expect(bare.status).toBe(403);
    expect(await codeOf(bare)).toBe('CSRF_HEADER_REQUIRED');
    expect(upstreamCalls('sims')).toBe(0);

    const payloads = await readAll(await h.fetch(url, { headers: { accept: ACCEPT, 'x-graphql-csrf': '1' } }));
    expect(entries(payloads)).toHaveLength(2);
  });

  it('authentication comes first (401, nothing parsed); an authorised caller gets the parts; CORS headers on the stream', async () => {
    h = await startHarness({ env: { AUTH_API_KEYS: `a:${KEY}`, CORS_ORIGINS: 'https://app.example' } });
    const anonymous = await post(h, DeferredUsage, { first: 2 });
    expect(anonymous.status).toBe(401);
    expect(await codeOf(anonymous)).toBe('UNAUTHENTICATED');
    expect(upstreamCalls('sims')).toBe(0);

    const response = await post(h, DeferredUsage, { first: 2 }, { 'x-api-key': KEY, origin: 'https://app.example' });
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(entries(await readAll(response))).toHaveLength(2);
  });

  it('persisted documents: a @defer document runs by id and streams; sent as text it is refused when only ids are allowed', async () => {
    h = await startHarness({ env: { PERSISTED_DOCUMENTS: MANIFEST, PERSISTED_DOCUMENTS_ONLY: 'true' } });
    const byId = await post(h, undefined, { first: 3 }, {}, { documentId: DeferredUsage.__meta__!.hash });
    expect(byId.status).toBe(200);
    const payloads = await readAll(byId);
    expect(payloads[0]!.data!.simList.nodes).toHaveLength(3);
    expect(entries(payloads)).toHaveLength(3);

    const asText = await post(h, DeferredUsage, { first: 3 });
    expect(asText.status).toBe(403);
    expect(await codeOf(asText)).toBe('PERSISTED_DOCUMENT_REQUIRED');
  });

  it('a manifest is validated with the @defer/@stream rules a text request meets (refused at start, all listed)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'persisted-defer-'));
    try {
      const documents = [
        '{ simList(first: 1) @stream { totalCount } }', // @stream on a field that is not a list
        '{ simList(first: 1) { nodes { ... @defer(label: "a") { iccid } ... @defer(label: "a") { lpa } } } }',
      ];
      const sha = (d: string) => `sha256:${createHash('sha256').update(d).digest('hex')}`;
      await writeFile(join(dir, 'm.json'), JSON.stringify(Object.fromEntries(documents.map((d) => [sha(d), d]))));
      const error = await startHarness({ env: { PERSISTED_DOCUMENTS: dir } }).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(error?.message).toMatch(/Stream directive cannot be used on non-list field "simList"/);
      expect(error?.message).toMatch(/label argument must be unique/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
