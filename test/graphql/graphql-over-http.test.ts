/**
 * GraphQL over HTTP conformance and graphql-jit parity: with GRAPHQL_JIT on (the default) every request gets
 * exactly the answer graphql-js gives — status, headers that matter and body — including operations graphql-jit
 * cannot compile (a subscription — graphql-js runs those —, a missing or ambiguous operation). Both settings run
 * graphql-http's server audits through `yoga.fetch`.
 */
import { serverAudits } from 'graphql-http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../support/harness.ts';

const settings = { jit: 'true', 'no jit': 'false' } as const;
const gateways: Partial<Record<keyof typeof settings, Harness>> = {};

beforeAll(async () => {
  for (const [name, jit] of Object.entries(settings))
    gateways[name as keyof typeof settings] = await startHarness({ env: { GRAPHQL_JIT: jit } });
});
afterAll(async () => {
  for (const h of Object.values(gateways)) await h?.close();
});

/** A POST as a browser or client library sends it: Content-Length set (the gateway requires it, 411 otherwise). */
async function post(h: Harness, body: unknown, accept = 'application/json') {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const response = await h.fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept, 'content-length': String(Buffer.byteLength(text)) },
    body: text,
  });
  return { status: response.status, contentType: response.headers.get('content-type'), body: await response.text() };
}

describe('graphql-jit reports what graphql-js reports', () => {
  it('subscription { nope }: the validation error graphql-js gives (the schema has a Subscription root), over JSON and SSE', async () => {
    const h = gateways.jit!;
    const json = await post(h, { query: 'subscription { nope }' });
    expect(json.status).toBeLessThan(500);
    expect(JSON.parse(json.body).errors[0].message).toBe('Cannot query field "nope" on type "Subscription".');
    const sse = await post(h, { query: 'subscription { nope }' }, 'text/event-stream');
    expect(sse.status).toBeLessThan(500);
    expect(sse.body).toContain('Cannot query field \\"nope\\" on type \\"Subscription\\".');
    expect(sse.body).not.toContain('Unexpected error.');
  });

  it('answers every malformed operation byte for byte as graphql-js does', async () => {
    const [iccid] = gateways.jit!.sandbox.control.iccids({ status: 'ACTIVE' });
    const cases: { body: unknown; accept?: string }[] = [
      { body: { query: 'subscription { nope }' } },
      { body: { query: 'subscription { nope }' }, accept: 'text/event-stream' },
      { body: { query: 'subscription S { nope }', operationName: 'S' } },
      { body: { query: 'query A { __typename } query B { __typename }' } },
      { body: { query: 'query A { __typename }', operationName: 'Nope' } },
      { body: { query: 'fragment F on Query { __typename }' } },
      { body: { query: 'query Q($id: ID!) { sim(iccid: $id) { iccid } }' } },
      { body: { query: 'query Q($id: ID!) { sim(iccid: $id) { iccid } }', variables: { id: null } } },
      { body: { query: 'query Q($id: ID!) { sim(iccid: $id) { iccid } }', variables: { id: { no: 1 } } } },
      { body: { query: 'query Q($n: Int) { simList(first: $n) { totalCount } }', variables: { n: 'ten' } } },
      { body: { query: 'query Q($n: Int) { simList(first: $n) { totalCount } }', variables: { n: 2 ** 40 } } },
      { body: { query: `{ sim(iccid: "${iccid}") { iccid nope } }` } },
      { body: { query: '{ sim(iccid: ) }' } },
      { body: { query: 'mutation { __typename }' } },
      { body: [{ query: 'subscription { nope }' }, { query: '{ __typename }' }] },
    ];
    for (const { body, accept } of cases) {
      const withJit = await post(gateways.jit!, body, accept);
      const without = await post(gateways['no jit']!, body, accept);
      expect(withJit, JSON.stringify(body)).toEqual(without);
      expect(withJit.status, JSON.stringify(body)).toBeLessThan(500);
    }
  });

  it('runs the operation named by operationName in a document with several (compiled queries are not shared across them)', async () => {
    const document = 'query A { a: __typename } query B { b: __typename }';
    for (const h of Object.values(gateways)) {
      expect(JSON.parse((await post(h!, { query: document, operationName: 'A' })).body)).toEqual({
        data: { a: 'Query' },
      });
      expect(JSON.parse((await post(h!, { query: document, operationName: 'B' })).body)).toEqual({
        data: { b: 'Query' },
      });
    }
  });
});

/**
 * The audits (all MAY; no MUST or SHOULD is on this list) the gateway fails on purpose, and why. Any other
 * non-passing audit fails the test.
 */
const JUSTIFIED: Record<string, string> = {
  // CSRF prevention: a GET is a "simple" request a browser sends cross-site without a preflight, so it must carry
  // the `x-graphql-csrf` header (403 without it); the audits' GETs do not.
  '5A70': 'GET without x-graphql-csrf → 403 (CSRF prevention)',
  D6D5: 'GET without x-graphql-csrf → 403 (CSRF prevention)',
  '6A70': 'GET without x-graphql-csrf → 403 (CSRF prevention)',
  // Bodies are size-checked from Content-Length before they are read: a POST without one is a 411.
  A5BF: 'POST without a body (and without Content-Length) → 411 Length Required',
};

describe.each(Object.keys(settings))('graphql-http server audits (%s)', (name) => {
  it('passes every MUST audit; SHOULD audits fail only where justified', async () => {
    const h = gateways[name as keyof typeof settings]!;
    const audits = serverAudits({
      url: 'http://gateway.test/graphql',
      fetchFn: async (input: RequestInfo, init?: RequestInit) => {
        const request = new Request(input, init);
        const headers = new Headers(request.headers);
        const body = request.body ? await request.arrayBuffer() : undefined;
        if (body) headers.set('content-length', String(body.byteLength));
        return h.gateway.yoga.fetch(
          new Request(request.url, { method: request.method, headers, ...(body ? { body } : {}) }),
        );
      },
    });
    const failures: string[] = [];
    for (const audit of audits) {
      const result = await audit.fn();
      if (result.status === 'ok') continue;
      const line = `${result.status} ${audit.id} ${audit.name}: ${result.reason}`;
      if (result.status === 'error' || !audit.name.startsWith('MAY ') || !(audit.id in JUSTIFIED)) failures.push(line);
    }
    expect(failures).toEqual([]);
  });
});
