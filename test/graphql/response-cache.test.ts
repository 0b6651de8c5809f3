/** The HTTP fast path over a real socket: what it serves from the response cache, to whom, and until when. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpHandler } from '../../src/http-handler.ts';
import { startHarness, type Harness } from '../support/harness.ts';

const KEY_A = 'partner-a-key-0123456789abcdefghij';
const KEY_B = 'partner-b-key-0123456789abcdefghij';

let h: Harness;
let server: Server;
let url: string;

async function start(env: Record<string, string> = {}) {
  h = await startHarness({ env: { AUTH_API_KEYS: `a:${KEY_A},b:${KEY_B}`, ...env } });
  server = createServer(createHttpHandler(h.gateway));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
}

afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve));
  await h?.close();
});

async function post(query: string, key = KEY_A, variables?: Record<string, unknown>) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': key },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, cache: response.headers.get('x-response-cache'), text: await response.text() };
}

const screen = (iccids: string[]) =>
  `{ sims(iccids: ${JSON.stringify(iccids)}) { iccid usage { remainingMb fetchedAt } topupPackages { id } packageHistory { id } } }`;

describe('response cache fast path', () => {
  it('serves a repeated identical query from stored bytes with no upstream call', async () => {
    await start();
    const iccids = h.sandbox.control.iccids({ status: 'ACTIVE' }).slice(0, 5);
    const first = await post(screen(iccids));
    expect(first.status).toBe(200);
    expect(first.cache).toBeNull();
    const calls = h.sandbox.control.countCalls();
    const second = await post(screen(iccids));
    expect(second).toMatchObject({ status: 200, cache: 'hit', text: first.text });
    expect(h.sandbox.control.countCalls()).toBe(calls);
  });

  it('never shares a response between callers, and refuses unauthenticated callers', async () => {
    await start();
    const iccids = h.sandbox.control.iccids({ status: 'ACTIVE' }).slice(0, 2);
    await post(screen(iccids), KEY_A);
    const other = await post(screen(iccids), KEY_B);
    expect(other.cache).toBeNull();
    expect(JSON.parse(other.text).data.sims).toHaveLength(2);
    const anonymous = await post(screen(iccids), 'not-a-key-not-a-key-not-a-key');
    expect(anonymous.status).toBe(401);
  });

  it('drops a response when a purchase changes one of its SIMs, and the next read shows the purchase', async () => {
    await start();
    const iccid = h.sandbox.control.iccids({ status: 'ACTIVE', hasTopups: true })[0]!;
    const packageId = h.sandbox.control.topupPackageIds(iccid).find((id) => !/insufficient|maintenance|disabled|out-of-stock/.test(id))!;
    const before = await post(screen([iccid]));
    expect((await post(screen([iccid]))).cache).toBe('hit');
    const bought = await post(
      `mutation { purchaseTopup(input: {iccid: "${iccid}", packageId: "${packageId}", idempotencyKey: "rc-1"}) { __typename } }`,
    );
    expect(JSON.parse(bought.text).data.purchaseTopup.__typename).toBe('PurchaseTopupSuccess');
    const after = await post(screen([iccid]));
    expect(after.cache).toBeNull();
    const history = (text: string) => JSON.parse(text).data.sims[0].packageHistory.length;
    expect(history(after.text)).toBe(history(before.text) + 1);
  });

  it('stops serving a response once a resource in it is due for a refresh', async () => {
    await start({ CACHE_USAGE_TTL_SECONDS: '300', RESPONSE_CACHE_MAX_TTL_SECONDS: '3600' });
    const [iccid] = h.sandbox.control.iccids({ status: 'ACTIVE' });
    // Details are fresh for an hour and usage for 5 minutes: the response lives 5 minutes.
    const usage = `{ sim(iccid: "${iccid}") { lpa usage { remainingMb } } }`;
    await post(usage);
    h.clock.advance(299_000);
    expect((await post(usage)).cache).toBe('hit');
    h.clock.advance(2_000);
    expect((await post(usage)).cache).toBeNull();
  });

  it('does not store responses with errors, stale values, list pages or mutations', async () => {
    await start({ CACHE_USAGE_TTL_SECONDS: '60' });
    const [good] = h.sandbox.control.iccids({ status: 'ACTIVE' });
    const withError = screen([good!, '8999999999999999999']);
    await post(withError);
    expect((await post(withError)).cache).toBeNull();

    const list = '{ simList(first: 3) { nodes { iccid } } }';
    await post(list);
    expect((await post(list)).cache).toBeNull();

    const usage = `{ sim(iccid: "${good}") { usage { stale } } }`;
    await post(usage);
    h.clock.advance(61_000);
    h.sandbox.control.addFault({ endpoint: 'usage', rateLimit: { retryAfterSeconds: 600 } });
    const stale = await post(usage);
    expect(JSON.parse(stale.text).data.sim.usage.stale).toBe(true);
    expect((await post(usage)).cache).toBeNull();
    expect(h.gateway.responseCache!.size).toBe(0);
  });

  it('can be switched off', async () => {
    await start({ RESPONSE_CACHE: 'false' });
    const iccids = h.sandbox.control.iccids({ status: 'ACTIVE' }).slice(0, 1);
    await post(screen(iccids));
    expect((await post(screen(iccids))).cache).toBeNull();
  });
});
