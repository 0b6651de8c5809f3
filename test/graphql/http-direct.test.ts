/**
 * The node:http edge hands POST /graphql requests to Yoga with their body already read (src/app/http-handler.ts) and
 * writes Yoga's answer itself. Whatever the request, the client must get exactly what Yoga's own node adapter
 * (`createServer(gateway.yoga)`) answers: status, headers (but the date) and body bytes — with the response cache on
 * and off, for successes, field errors, request errors, refusals and batches. Both listen on one gateway, so both
 * read the same caches.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpHandler } from '../../src/app/http-handler.ts';
import { type Harness, startHarness } from '../support/harness.ts';

const API_KEY = 'partner-backend-key-0123456789abcdef';
const ORIGIN = 'https://app.example';

let h: Harness | undefined;
const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
  await h?.close();
  h = undefined;
});

async function listen(listener: Parameters<typeof createServer>[1]): Promise<string> {
  const server = createServer(listener);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
}

interface Answer {
  status: number;
  headers: [string, string][];
  body: string;
}

async function ask(url: string, body: string, headers: Record<string, string>): Promise<Answer> {
  const response = await fetch(url, { method: 'POST', headers, body });
  return {
    status: response.status,
    // The date differs by the second; the response-cache marker is compared separately.
    headers: [...response.headers].filter(([name]) => name !== 'date' && name !== 'x-response-cache'),
    body: await response.text(),
  };
}

/** Requests that take the edge's own path (POST, JSON, a Content-Length within the limit) and a few that do not. */
interface Probe {
  name: string;
  body: string;
  headers?: Record<string, string>;
  /** Yoga answers it (not the edge's direct execution): an error before execution, a batch, a mutation, … */
  viaYoga?: true;
}

function probes(iccids: string[]): Probe[] {
  const [a, b] = iccids;
  const screen = 'query S($i: [ID!]!) { sims(iccids: $i) { iccid usage { status remainingMb } topupPackages { id } } }';
  return [
    { name: 'success with variables', body: JSON.stringify({ query: screen, variables: { i: [a, b] } }) },
    {
      name: 'field error beside data',
      body: JSON.stringify({ query: screen, variables: { i: [a, '89000000000000000000'] } }),
    },
    { name: 'malformed iccid', body: JSON.stringify({ query: `{ sim(iccid: "x") { iccid } }` }) },
    {
      name: 'unknown SIM: data null beside the error',
      body: JSON.stringify({ query: '{ sim(iccid: "89000000000000000001") { iccid } }' }),
    },
    {
      name: 'two operations, one named',
      body: JSON.stringify({
        query: `query A { __typename } query B { sim(iccid: "${a}") { iccid } }`,
        operationName: 'B',
      }),
    },
    {
      name: 'two operations, none named',
      viaYoga: true,
      body: JSON.stringify({ query: 'query A { __typename } query B { __typename }' }),
    },
    { name: 'variables null', body: JSON.stringify({ query: `{ sim(iccid: "${a}") { iccid } }`, variables: null }) },
    {
      name: 'variables not an object',
      viaYoga: true,
      body: JSON.stringify({ query: '{ __typename }', variables: [1] }),
    },
    {
      name: 'extensions (Yoga path)',
      viaYoga: true,
      body: JSON.stringify({ query: '{ __typename }', extensions: {} }),
    },
    { name: 'an unknown parameter', viaYoga: true, body: JSON.stringify({ query: '{ __typename }', foo: 1 }) },
    { name: 'variable of the wrong type', body: JSON.stringify({ query: screen, variables: { i: 5 } }) },
    { name: 'a top-level array of nothing', viaYoga: true, body: '[]' },
    { name: 'null body', viaYoga: true, body: 'null' },
    { name: 'validation error', viaYoga: true, body: JSON.stringify({ query: '{ nope }' }) },
    {
      name: 'validation error, application/json only',
      viaYoga: true,
      body: JSON.stringify({ query: '{ nope }' }),
      headers: { accept: 'application/json' },
    },
    { name: 'syntax error', viaYoga: true, body: JSON.stringify({ query: '{ sim(' }) },
    { name: 'body is not JSON', viaYoga: true, body: '{"query": ' },
    { name: 'query is not a string', viaYoga: true, body: JSON.stringify({ query: 42 }) },
    {
      name: 'unknown operation name',
      viaYoga: true,
      body: JSON.stringify({ query: '{ __typename }', operationName: 'X' }),
    },
    { name: 'missing variable', body: JSON.stringify({ query: screen }) },
    {
      name: 'too deep',
      viaYoga: true,
      body: JSON.stringify({ query: `{ ${'sim(iccid: "1") { '.repeat(12)}iccid${' }'.repeat(12)} }` }),
    },
    {
      name: 'batch',
      viaYoga: true,
      body: JSON.stringify([{ query: '{ __typename }' }, { query: screen, variables: { i: [b] } }]),
    },
    {
      name: 'mutation refused by input validation',
      viaYoga: true,
      body: JSON.stringify({
        query: `mutation { purchaseTopup(input: { iccid: "${a}", packageId: "", idempotencyKey: "k" }) { __typename } }`,
      }),
    },
    {
      name: 'subscription over plain POST',
      viaYoga: true,
      body: JSON.stringify({ query: 'subscription { __typename }' }),
    },
    {
      name: 'not acceptable',
      viaYoga: true,
      body: JSON.stringify({ query: '{ __typename }' }),
      headers: { accept: 'text/html' },
    },
    ...[
      {},
      { accept: '' },
      { accept: '*/*' },
      { accept: 'application/json' },
      { accept: 'application/json; charset=utf-8' },
      { accept: 'Application/GraphQL-Response+JSON' },
      { accept: 'application/graphql-response+json;charset=iso-8859-1, application/json' },
      { accept: 'application/*' },
      { accept: 'application/json, application/graphql-response+json' },
      { accept: 'text/html, application/json;q=0.9' },
      { origin: '' },
      { origin: 'https://evil.example' },
      { 'access-control-request-method': 'POST', 'access-control-request-headers': 'x-api-key, content-type' },
      { 'access-control-request-headers': 'x-api-key' },
    ].map((headers) => ({
      name: `success with ${JSON.stringify(headers)}`,
      body: JSON.stringify({ query: screen, variables: { i: [b] } }),
      headers: headers as Record<string, string>,
    })),
    {
      name: 'no credentials',
      viaYoga: true,
      body: JSON.stringify({ query: '{ __typename }' }),
      headers: { 'x-api-key': '' },
    },
    {
      name: 'wrong credentials',
      viaYoga: true,
      body: JSON.stringify({ query: '{ __typename }' }),
      headers: { 'x-api-key': 'wrong-key-wrong-key-wrong-key-0123' },
    },
    {
      name: 'form body (Yoga path)',
      viaYoga: true,
      body: 'query=%7B__typename%7D',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    },
    {
      name: 'over MAX_REQUEST_BYTES (Yoga path)',
      viaYoga: true,
      body: JSON.stringify({ query: `{ __typename }${' '.repeat(2_000)}` }),
    },
  ];
}

describe('the node:http edge answers exactly what Yoga answers', () => {
  for (const responseCache of ['false', 'true']) {
    it(`for every kind of request (RESPONSE_CACHE=${responseCache})`, async () => {
      h = await startHarness({
        env: {
          AUTH_API_KEYS: `backend:${API_KEY}`,
          CORS_ORIGINS: ORIGIN,
          MAX_REQUEST_BYTES: '1024',
          RESPONSE_CACHE: responseCache,
        },
      });
      // The edge on a Yoga whose `fetch` is counted: a request the edge executed itself never reaches it.
      let yogaFetches = 0;
      const counted = new Proxy(h.gateway.yoga, {
        apply: (target, self, args) => {
          yogaFetches++; // Yoga's own node adapter (a request the edge does not read)
          return Reflect.apply(target, self, args);
        },
        get: (target, prop) =>
          prop === 'fetch'
            ? (...args: unknown[]) => {
                yogaFetches++;
                return (target.fetch as (...a: unknown[]) => Promise<Response>)(...args);
              }
            : Reflect.get(target, prop),
      });
      const edge = await listen(createHttpHandler({ ...h.gateway, yoga: counted }));
      const reference = await listen(h.gateway.yoga);
      const iccids = h.sandbox.control.iccids({ status: 'ACTIVE' }).slice(0, 2);
      // Warm the resource caches, so both servers answer from the same cached values (same fetchedAt, no upstream).
      const warm = await h.gql(
        'query S($i: [ID!]!) { sims(iccids: $i) { iccid usage { status } topupPackages { id } } }',
        { i: iccids },
        { 'x-api-key': API_KEY },
      );
      expect(warm.errors).toBeUndefined();
      for (const probe of probes(iccids)) {
        const headers = {
          'content-type': 'application/json',
          accept: 'application/graphql-response+json, application/json',
          'x-api-key': API_KEY,
          origin: ORIGIN,
          ...probe.headers,
        };
        const expected = await ask(reference, probe.body, headers);
        // Twice through the edge: with the response cache on, the second may be a stored answer — the same bytes.
        for (const round of [1, 2]) {
          const before = yogaFetches;
          const actual = await ask(edge, probe.body, headers);
          expect(actual, `${probe.name} (#${round})`).toEqual(expected);
          if (round === 1) expect(yogaFetches - before, `${probe.name}: answered by Yoga`).toBe(probe.viaYoga ? 1 : 0);
        }
      }
    });
  }

  it('times a request it executes itself in the request-duration metric, as Yoga does', async () => {
    h = await startHarness({ env: { AUTH_API_KEYS: `backend:${API_KEY}`, RESPONSE_CACHE: 'false' } });
    const [iccid] = h.sandbox.control.iccids({ status: 'ACTIVE' });
    const url = await listen(createHttpHandler(h.gateway));
    const count = async (status: number) =>
      Number(
        new RegExp(`gateway_http_request_duration_seconds_count\\{method="POST",status="${status}"\\} (\\d+)`).exec(
          await h!.gateway.metrics.registry.metrics(),
        )?.[1] ?? 0,
      );
    const post = (query: string) =>
      fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/graphql-response+json',
          'x-api-key': API_KEY,
        },
        body: JSON.stringify({ query }),
      }).then((r) => r.text());
    for (let i = 0; i < 3; i++) await post(`{ sim(iccid: "${iccid}") { iccid } }`); // executed at the edge
    await post('{ nope }'); // a validation error: Yoga's
    expect(await count(200)).toBe(3);
    expect(await count(400)).toBe(1);
  });

  it.each(['false', 'true'])(
    'a client that goes away mid-request abandons its upstream call (RESPONSE_CACHE=%s)',
    async (responseCache) => {
      h = await startHarness({ env: { AUTH_API_KEYS: `backend:${API_KEY}`, RESPONSE_CACHE: responseCache } });
      const [iccid] = h.sandbox.control.iccids({ status: 'ACTIVE' });
      h.sandbox.control.addFault({ endpoint: 'sim', latencyMs: 60_000 });
      const url = await listen(createHttpHandler(h.gateway));
      const controller = new AbortController();
      const pending = fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': API_KEY },
        body: JSON.stringify({ query: `{ sim(iccid: "${iccid}") { iccid } }` }),
        signal: controller.signal,
      }).catch((error: unknown) => error);
      // An upstream call abandoned by its callers is reported with status 0 (no answer).
      const abandoned = async () =>
        /gateway_upstream_calls_total\{endpoint="sim",status="0"\} 1/.test(await h!.gateway.metrics.registry.metrics());
      await expect.poll(() => h!.sandbox.control.countCalls({ endpoint: 'token' }) > 0).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 200)); // the sandbox holds the details call
      expect(await abandoned()).toBe(false);
      controller.abort();
      await pending;
      await expect.poll(abandoned, { timeout: 5_000 }).toBe(true); // long before the sandbox would answer (60 s)
    },
  );
});
