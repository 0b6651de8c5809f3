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
function probes(iccids: string[]): { name: string; body: string; headers?: Record<string, string> }[] {
  const [a, b] = iccids;
  const screen = 'query S($i: [ID!]!) { sims(iccids: $i) { iccid usage { status remainingMb } topupPackages { id } } }';
  return [
    { name: 'success with variables', body: JSON.stringify({ query: screen, variables: { i: [a, b] } }) },
    {
      name: 'field error beside data',
      body: JSON.stringify({ query: screen, variables: { i: [a, '89000000000000000000'] } }),
    },
    { name: 'malformed iccid', body: JSON.stringify({ query: `{ sim(iccid: "x") { iccid } }` }) },
    { name: 'validation error', body: JSON.stringify({ query: '{ nope }' }) },
    {
      name: 'validation error, application/json only',
      body: JSON.stringify({ query: '{ nope }' }),
      headers: { accept: 'application/json' },
    },
    { name: 'syntax error', body: JSON.stringify({ query: '{ sim(' }) },
    { name: 'body is not JSON', body: '{"query": ' },
    { name: 'query is not a string', body: JSON.stringify({ query: 42 }) },
    { name: 'unknown operation name', body: JSON.stringify({ query: '{ __typename }', operationName: 'X' }) },
    { name: 'missing variable', body: JSON.stringify({ query: screen }) },
    {
      name: 'too deep',
      body: JSON.stringify({ query: `{ ${'sim(iccid: "1") { '.repeat(12)}iccid${' }'.repeat(12)} }` }),
    },
    {
      name: 'batch',
      body: JSON.stringify([{ query: '{ __typename }' }, { query: screen, variables: { i: [b] } }]),
    },
    {
      name: 'mutation refused by input validation',
      body: JSON.stringify({
        query: `mutation { purchaseTopup(input: { iccid: "${a}", packageId: "", idempotencyKey: "k" }) { __typename } }`,
      }),
    },
    { name: 'subscription over plain POST', body: JSON.stringify({ query: 'subscription { __typename }' }) },
    { name: 'not acceptable', body: JSON.stringify({ query: '{ __typename }' }), headers: { accept: 'text/html' } },
    { name: 'no credentials', body: JSON.stringify({ query: '{ __typename }' }), headers: { 'x-api-key': '' } },
    {
      name: 'wrong credentials',
      body: JSON.stringify({ query: '{ __typename }' }),
      headers: { 'x-api-key': 'wrong-key-wrong-key-wrong-key-0123' },
    },
    {
      name: 'form body (Yoga path)',
      body: 'query=%7B__typename%7D',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    },
    {
      name: 'over MAX_REQUEST_BYTES (Yoga path)',
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
      const edge = await listen(createHttpHandler(h.gateway));
      const reference = await listen(h.gateway.yoga);
      const iccids = h.sandbox.control.iccids({ status: 'ACTIVE' }).slice(0, 2);
      // Warm the resource caches, so both servers answer from the same cached values (same fetchedAt, no upstream).
      await h.gql('query S($i: [ID!]!) { sims(iccids: $i) { iccid usage { status } topupPackages { id } } }', {
        i: iccids,
      });
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
          const actual = await ask(edge, probe.body, headers);
          expect(actual, `${probe.name} (#${round})`).toEqual(expected);
        }
      }
    });
  }

  it.each(['false', 'true'])(
    'a client that goes away mid-request aborts its request signal (RESPONSE_CACHE=%s)',
    async (responseCache) => {
      h = await startHarness({ env: { AUTH_API_KEYS: `backend:${API_KEY}`, RESPONSE_CACHE: responseCache } });
      const [iccid] = h.sandbox.control.iccids({ status: 'ACTIVE' });
      h.sandbox.control.addFault({ endpoint: 'sim', latencyMs: 60_000 });
      let signal: AbortSignal | undefined;
      const yoga = h.gateway.yoga;
      // What the edge hands to Yoga, seen on the way in.
      const observed = new Proxy(yoga, {
        get: (target, prop) =>
          prop === 'fetch'
            ? (request: Request, ...rest: unknown[]) => {
                signal = request.signal;
                return (target.fetch as (...args: unknown[]) => Promise<Response>)(request, ...rest);
              }
            : Reflect.get(target, prop),
      });
      const url = await listen(createHttpHandler({ ...h.gateway, yoga: observed }));
      const controller = new AbortController();
      const pending = fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': API_KEY },
        body: JSON.stringify({ query: `{ sim(iccid: "${iccid}") { iccid } }` }),
        signal: controller.signal,
      }).catch((error: unknown) => error);
      await expect.poll(() => signal !== undefined).toBe(true);
      expect(signal!.aborted).toBe(false);
      controller.abort();
      await pending;
      await expect.poll(() => signal!.aborted).toBe(true);
    },
  );
});
