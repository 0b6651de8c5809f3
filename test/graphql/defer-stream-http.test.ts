/**
 * @defer over a real socket (src/app/http-handler.ts): parts reach the client as they are produced — the first while
 * the deferred reads still hang at the upstream — on the response-cache fast path and on Yoga's own handler; a client
 * that leaves mid-stream stops the work; an incremental response is never stored while a non-deferred query keeps
 * its cache behaviour; `text/event-stream` works too.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpHandler } from '../../src/app/http-handler.ts';
import { type Harness, startHarness } from '../support/harness.ts';
import { type Payload, readAll, streamOverSocket } from '../support/incremental.ts';
import { until } from '../support/until.ts';

/** What Apollo Client sends on every query. */
const ACCEPT = 'multipart/mixed;deferSpec=20220824, application/json';
/** What urql sends on every query (also the reference web app's client). */
const URQL_ACCEPT =
  'application/graphql-response+json, application/graphql+json, application/json, text/event-stream, multipart/mixed';
const DEFERRED = JSON.stringify({
  query: '{ simList(first: 25) { nodes { iccid ... @defer { usage { status remainingMb } } } } }',
});

let h: Harness | undefined;
let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  if (server) await new Promise((resolve) => server!.close(resolve));
  await h?.close();
  h = server = undefined;
});

async function start(env: Record<string, string>): Promise<string> {
  h = await startHarness({ env });
  server = createServer(createHttpHandler(h.gateway));
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
}

/** `gateway_upstream_calls_total` for `endpoint` and `status` (0 = no answer: aborted, timed out, failed). */
async function upstreamCallsMetric(endpoint: string, status: number): Promise<number> {
  const metric = await h!.gateway.metrics.registry.getSingleMetric('gateway_upstream_calls_total')!.get();
  return metric.values.find((v) => v.labels.endpoint === endpoint && v.labels.status === String(status))?.value ?? 0;
}

const entries = (payloads: Payload[]) => payloads.slice(1).flatMap((p) => p.incremental ?? []);

describe.each([
  ["the response-cache fast path (Apollo Client's Accept)", 'true', ACCEPT],
  ["the response-cache fast path (urql's Accept)", 'true', URQL_ACCEPT],
  ["Yoga's own handler (response cache off)", 'false', ACCEPT],
])('streaming over a socket, through %s', (_name, responseCache, accept) => {
  it('the first part arrives while the deferred reads still hang upstream; leaving mid-stream aborts every one of them', async () => {
    const url = await start({ RESPONSE_CACHE: responseCache, UPSTREAM_CONNECTIONS: '4' });
    h!.sandbox.control.addFault({ endpoint: 'usage', hang: true }); // the deferred part can never be resolved

    const stream = await streamOverSocket(url, DEFERRED, { 'content-type': 'application/json', accept });
    expect(stream.status).toBe(200);
    expect(stream.headers['content-type']).toMatch(/^multipart\/mixed/);
    expect(stream.headers['content-length']).toBeUndefined();
    const first = (await stream.next())!;
    expect(first.hasNext).toBe(true);
    expect(first.data!.simList.nodes).toHaveLength(25);
    expect(await upstreamCallsMetric('usage', 200)).toBe(0);

    // The deferred reads are under way: four at the upstream (one per connection), the others queued.
    await until(() => h!.sandbox.control.countCalls({ endpoint: 'usage' }) === 4);
    stream.close();
    // Every one of the 25 is abandoned (reported with no answer), long before any upstream timeout…
    await until(async () => (await upstreamCallsMetric('usage', 0)) === 25);
    // …and the queued ones were never sent.
    expect(h!.sandbox.control.countCalls({ endpoint: 'usage' })).toBe(4);
  });

  it("a complete stream: the page, then every SIM's usage, then the closing delimiter; CORS headers on it", async () => {
    const url = await start({ RESPONSE_CACHE: responseCache, CORS_ORIGINS: 'https://app.example' });
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept, origin: 'https://app.example' },
      body: DEFERRED,
    });
    expect(response.headers.get('content-type')).toMatch(/^multipart\/mixed/);
    expect(response.headers.get('access-control-allow-origin')).toBe('https://app.example');
    const payloads = await readAll(response); // fails without the closing delimiter
    expect(entries(payloads)).toHaveLength(25);
    expect(payloads.at(-1)!.hasNext).toBe(false);
  });
});

describe('the response cache', () => {
  it("never stores or serves an incremental response; a non-deferred query keeps its cache behaviour, whatever the client's Accept", async () => {
    const url = await start({ RESPONSE_CACHE: 'true' });
    const cache = h!.gateway.responseCache!;
    const send = async (body: string, accept: string) => {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept },
        body,
      });
      return {
        type: response.headers.get('content-type'),
        hit: response.headers.get('x-response-cache'),
        text: await response.text(),
      };
    };

    for (let i = 0; i < 3; i++) {
      const deferred = await send(DEFERRED, ACCEPT);
      expect(deferred.type).toMatch(/^multipart\/mixed/);
      expect(deferred.hit).toBeNull();
    }
    expect(cache.stats.stores).toBe(0);
    expect(cache.stats.hits).toBe(0);

    // The same selection without @defer, with the Accept header Apollo Client sends on every query: JSON, stored.
    const plain = JSON.stringify({ query: '{ simList(first: 25) { nodes { iccid usage { status remainingMb } } } }' });
    const sims = JSON.stringify({ query: `{ sim(iccid: "${h!.sandbox.control.iccids()[0]}") { usage { status } } }` });
    const plainAnswers = [await send(sims, ACCEPT), await send(sims, ACCEPT), await send(sims, ACCEPT)];
    expect(plainAnswers.map((a) => a.type)).toEqual(Array(3).fill('application/json; charset=utf-8'));
    expect(plainAnswers.at(-1)!.hit).toBe('hit');
    expect(plainAnswers.at(-1)!.text).toBe(plainAnswers[1]!.text);
    // A list page is never stored (as before: no per-ICCID cache backs it), deferred or not.
    await send(plain, ACCEPT);
    expect((await send(plain, ACCEPT)).hit).toBeNull();

    // urql's Accept (JSON, SSE and multipart): the same, cached like Apollo's (stored on its second sighting, served
    // from the third: the response cache's admission rule).
    const urql = [await send(sims, URQL_ACCEPT), await send(sims, URQL_ACCEPT), await send(sims, URQL_ACCEPT)];
    expect(urql[0]!.type).toMatch(/^application\/graphql-response\+json/);
    expect(urql[2]!.hit).toBe('hit');
    expect((await send(DEFERRED, URQL_ACCEPT)).hit).toBeNull();

    // A client that accepts only multipart gets a one-part answer for a plain query; stored and served as before.
    const multipartOnly = [
      await send(sims, 'multipart/mixed'),
      await send(sims, 'multipart/mixed'),
      await send(sims, 'multipart/mixed'),
    ];
    expect(multipartOnly[0]!.type).toMatch(/^multipart\/mixed/);
    expect(multipartOnly[2]!.hit).toBe('hit');
    expect(multipartOnly[2]!.text).toBe(multipartOnly[1]!.text);

    // And the deferred query is still never a hit.
    expect((await send(DEFERRED, ACCEPT)).hit).toBeNull();
  });
});

describe('text/event-stream', () => {
  it('a client that accepts only SSE gets each payload as a `next` event, then `complete`', async () => {
    const url = await start({ RESPONSE_CACHE: 'true' });
    const stream = await streamOverSocket(url, DEFERRED, {
      'content-type': 'application/json',
      accept: 'text/event-stream',
    });
    expect(stream.headers['content-type']).toMatch(/^text\/event-stream/);
    const payloads: Payload[] = [];
    for (let p = await stream.next(); p; p = await stream.next()) {
      payloads.push(p);
      if (p.hasNext === false) break;
    }
    expect(payloads[0]!.data!.simList.nodes).toHaveLength(25);
    expect(entries(payloads)).toHaveLength(25);
    expect(payloads.at(-1)!.hasNext).toBe(false);
    stream.close();
  });
});
