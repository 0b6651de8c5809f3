/** The HTTP fast path over a real socket: what it serves from the response cache, to whom, and until when. */
import { createServer, type IncomingHttpHeaders, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { crc32 } from 'node:zlib';
import { SignJWT } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpHandler } from '../../src/app/http-handler.ts';
import { ResponseCache } from '../../src/graphql/response-cache.ts';
import { type Harness, startHarness } from '../support/harness.ts';

const KEY_A = 'partner-a-key-0123456789abcdefghij';
const KEY_B = 'partner-b-key-0123456789abcdefghij';
const JWT_SECRET = 'test-jwt-secret-that-is-long-enough-for-hs256';

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

interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  cache: string | undefined;
  text: string;
}

/** Exactly these headers (plus Content-Length unless `chunked`) and these body bytes. */
function raw(body: string, headers: Record<string, string | string[]>, chunked = false): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        headers: chunked ? headers : { 'content-length': String(Buffer.byteLength(body)), ...headers },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode!,
            headers: res.headers,
            cache: res.headers['x-response-cache'] as string | undefined,
            text,
          }),
        );
      },
    );
    req.on('error', reject);
    if (chunked) req.write(body);
    req.end(chunked ? undefined : body);
  });
}

/** Sends a request until its answer is stored: the first read fills the resource caches (a change while it is built). */
async function warm(send: () => Promise<{ cache: string | null | undefined }>): Promise<void> {
  await send();
  await send();
  expect((await send()).cache).toBe('hit');
}

/** A token issued now on the gateway's clock, valid for an hour unless `expiresAt` (epoch seconds) says otherwise. */
const bearer = (sub: string, iccids: string[], expiresAt = Math.floor(h.clock.now() / 1000) + 3600) =>
  new SignJWT({ iccids })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setIssuedAt(Math.min(expiresAt - 3600, Math.floor(h.clock.now() / 1000)))
    .setExpirationTime(expiresAt)
    .sign(new TextEncoder().encode(JWT_SECRET));

/**
 * `text` with the case of some letters of `name` flipped so that the result has the same length and CRC-32 (the
 * cache key's fingerprint of a body) but other bytes: CRC-32 is linear over GF(2), so flipping bit 0x20 of a
 * letter adds a fixed 32-bit vector to it; any linearly dependent set of those vectors cancels out.
 */
function sameFingerprint(text: string, name: string): string {
  const at = text.indexOf(name);
  const bytes = Buffer.from(text);
  const zero = crc32(Buffer.alloc(bytes.length));
  const basis = new Map<number, { value: number; letters: Set<number> }>(); // leading bit → row
  for (let i = 0; i < name.length; i++) {
    const flip = Buffer.alloc(bytes.length);
    flip[at + i] = 0x20;
    let value = (crc32(flip) ^ zero) >>> 0;
    let letters = new Set([i]);
    while (value !== 0) {
      const bit = 31 - Math.clz32(value);
      const row = basis.get(bit);
      if (!row) break;
      value = (value ^ row.value) >>> 0;
      letters = new Set(
        [...letters].filter((l) => !row.letters.has(l)).concat([...row.letters].filter((l) => !letters.has(l))),
      );
    }
    if (value === 0) {
      for (const l of letters) bytes[at + l]! ^= 0x20;
      return bytes.toString();
    }
    basis.set(31 - Math.clz32(value), { value, letters });
  }
  throw new Error('no dependent set of letters (use a longer name)');
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
    // The first answer was built while its resources were being filled (a change): the next one is stored.
    const calls = h.sandbox.control.countCalls();
    const second = await post(screen(iccids));
    expect(second).toMatchObject({ status: 200, cache: null, text: first.text });
    const third = await post(screen(iccids));
    expect(third).toMatchObject({ status: 200, cache: 'hit', text: first.text });
    expect(h.sandbox.control.countCalls()).toBe(calls);
  });

  it('stores only requests seen before: one-off requests are answered without recording or storing anything', async () => {
    await start();
    const cache = h.gateway.responseCache!;
    const pool = h.sandbox.control.iccids({ status: 'ACTIVE' }).slice(0, 8);
    expect((await h.gql(screen(pool), undefined, { 'x-api-key': KEY_A })).errors).toBeUndefined(); // all cached
    const windows = pool.map((_, i) => [pool[i]!, pool[(i + 1) % pool.length]!, pool[(i + 3) % pool.length]!]);
    const calls = h.sandbox.control.countCalls();
    const before = { ...cache.stats };
    for (const window of windows) expect((await post(screen(window))).cache).toBeNull();
    expect(cache.stats.firstSightings - before.firstSightings).toBe(windows.length);
    expect(cache.stats.stores).toBe(before.stores);
    expect(cache.size).toBe(0);
    // The second sighting is executed and stored, the third served from the stored bytes.
    const again = await post(screen(windows[2]!));
    expect(again.cache).toBeNull();
    expect(cache.stats.stores).toBe(before.stores + 1);
    const third = await post(screen(windows[2]!));
    expect(third).toMatchObject({ cache: 'hit', text: again.text });
    expect(h.sandbox.control.countCalls()).toBe(calls);
  });

  it('admission remembers a bounded number of first sightings (two generations of the window)', () => {
    const cache = new ResponseCache({ clock: h.clock, maxBytes: 1 << 20, maxTtlMs: 60_000, admissionWindow: 2 });
    expect([cache.admits('a'), cache.admits('b')]).toEqual([false, false]); // a full generation: kept as the previous
    expect([cache.admits('a'), cache.admits('b'), cache.admits('c')]).toEqual([true, true, false]);
    expect(cache.admits('d')).toBe(false); // {c, d} now the previous generation: a and b forgotten
    expect([cache.admits('c'), cache.admits('a')]).toEqual([true, false]);
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
    const packageId = h.sandbox.control.topupPackageIds(iccid).find((id) => !id.startsWith('sandbox-trigger-'))!;
    const before = await post(screen([iccid]));
    await post(screen([iccid]));
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
    await post(usage);
    h.clock.advance(299_000);
    expect((await post(usage)).cache).toBe('hit');
    h.clock.advance(2_000);
    expect((await post(usage)).cache).toBeNull();
  });

  it('does not store responses with errors, stale values, list pages or mutations', async () => {
    await start({ CACHE_USAGE_TTL_SECONDS: '60' });
    const [good] = h.sandbox.control.iccids({ status: 'ACTIVE', hasTopups: true });
    const packageId = h.sandbox.control.topupPackageIds(good!).find((id) => !id.startsWith('sandbox-trigger-'))!;
    const neverStored = async (query: string) => {
      for (let i = 0; i < 3; i++) expect((await post(query)).cache).toBeNull();
    };
    await neverStored(screen([good!, '8999999999999999999']));
    await neverStored('{ simList(first: 3) { nodes { iccid } } }');
    await neverStored(
      `mutation { purchaseTopup(input: {iccid: "${good}", packageId: "${packageId}", idempotencyKey: "rc-m"}) { __typename } }`,
    );

    const usage = `{ sim(iccid: "${good}") { usage { stale } } }`;
    await post(usage);
    h.clock.advance(61_000);
    h.sandbox.control.addFault({ endpoint: 'usage', rateLimit: { retryAfterSeconds: 600 } });
    const stale = await post(usage);
    expect(JSON.parse(stale.text).data.sim.usage.stale).toBe(true);
    await neverStored(usage);
    expect(h.gateway.responseCache!.size).toBe(0);
  });

  it('does not store a response with an error raised before execution, also in a batch beside a good operation', async () => {
    await start();
    const [iccid] = h.sandbox.control.iccids({ status: 'ACTIVE' });
    const good = `{ sim(iccid: "${iccid}") { iccid } }`;
    const json = { 'content-type': 'application/json', 'x-api-key': KEY_A };
    const bodies = [
      JSON.stringify([{ query: good }, { query: '{ nope }' }]), // the second operation fails validation, the first reads a SIM
      JSON.stringify({ query: `{ sim(iccid: "${iccid}") { iccid nope } }` }),
      JSON.stringify({ query: '{ sim(iccid: ' }),
    ];
    for (const body of bodies) {
      for (let i = 0; i < 3; i++) {
        const answer = await raw(body, json);
        expect(answer.cache).toBeUndefined();
        expect(answer.text).toContain('"errors"');
      }
    }
    expect(h.gateway.responseCache!.size).toBe(0);
    await warm(() => raw(JSON.stringify([{ query: good }, { query: good }]), json)); // the same batch without the error is stored
  });

  it('does not store a response when a resource it read changes before it is complete', async () => {
    await start();
    const [a, b] = h.sandbox.control.iccids({ status: 'ACTIVE', hasTopups: true });
    const packageId = h.sandbox.control.topupPackageIds(a!).find((id) => !id.startsWith('sandbox-trigger-'))!;
    await post(screen([a!])); // A's resources are cached; B's are not
    // B's history is slow: the response for [A, B] reads A's history at once, but completes only after the purchase
    h.sandbox.control.addFault({ endpoint: 'packages', iccid: b!, latencyMs: 400 });
    const pending = post(screen([a!, b!]));
    await new Promise((resolve) => setTimeout(resolve, 150));
    const bought = await post(
      `mutation { purchaseTopup(input: {iccid: "${a}", packageId: "${packageId}", idempotencyKey: "rc-race"}) { __typename } }`,
    );
    expect(JSON.parse(bought.text).data.purchaseTopup.__typename).toBe('PurchaseTopupSuccess');
    const before = await pending;
    const history = (text: string) => JSON.parse(text).data.sims[0].packageHistory.length;
    const after = await post(screen([a!, b!]));
    expect(after.cache).toBeNull();
    expect(history(after.text)).toBe(history(before.text) + 1);
  });

  it('authenticates every hit: a stored response never reaches a wrong, missing, empty or doubled API key', async () => {
    await start();
    const query = screen(h.sandbox.control.iccids({ status: 'ACTIVE' }).slice(0, 2));
    await warm(() => post(query));
    for (const key of ['not-a-key-not-a-key-not-a-key', '', `${KEY_A}x`, KEY_A.slice(0, -1), KEY_A.toUpperCase()]) {
      const refused = await post(query, key);
      expect(refused).toMatchObject({ status: 401, cache: null });
      expect(JSON.parse(refused.text).errors[0].extensions.code).toBe('UNAUTHENTICATED');
    }
    const body = JSON.stringify({ query });
    const doubled = await raw(body, { 'content-type': 'application/json', 'x-api-key': [KEY_A, KEY_A] });
    expect(doubled).toMatchObject({ status: 401, cache: undefined });
    const anonymous = await raw(body, { 'content-type': 'application/json' });
    expect(anonymous).toMatchObject({ status: 401, cache: undefined });
    expect((await post(query)).cache).toBe('hit');
  });

  it('verifies bearer tokens on every hit, and keys end users by the ICCIDs their token grants', async () => {
    await start({ AUTH_JWT_SECRET: JWT_SECRET });
    const [mine, theirs] = h.sandbox.control.iccids({ status: 'ACTIVE' });
    const query = `{ a: sim(iccid: "${mine}") { iccid } b: sim(iccid: "${theirs}") { iccid } }`;
    const asUser = async (token: string) => {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query }),
      });
      return { status: response.status, cache: response.headers.get('x-response-cache'), json: await response.json() };
    };
    const both = await bearer('user-1', [mine!, theirs!]);
    await warm(() => asUser(both));
    expect((await asUser(both)).json.data.b.iccid).toBe(theirs);

    // Same subject, fewer ICCIDs: its own answer, without the SIM it was not granted.
    const narrower = await asUser(await bearer('user-1', [mine!]));
    expect(narrower.cache).toBeNull();
    expect(narrower.json.data).toEqual({ a: { iccid: mine }, b: null });
    expect(narrower.json.errors[0].extensions.code).toBe('SIM_NOT_FOUND');

    const expired = await asUser(await bearer('user-1', [mine!, theirs!], Math.floor(h.clock.now() / 1000) - 60));
    expect(expired).toMatchObject({ status: 401, cache: null });
    const forged = await asUser(`${both.slice(0, -4)}AAAA`);
    expect(forged).toMatchObject({ status: 401, cache: null });
  });

  it('honours the body size limit and the Content-Length rules for stored bodies', async () => {
    await start({ MAX_REQUEST_BYTES: '1024' });
    const [iccid] = h.sandbox.control.iccids({ status: 'ACTIVE' });
    const query = `{ sim(iccid: "${iccid}") { iccid usage { remainingMb } } }`;
    const body = JSON.stringify({ query });
    const json = { 'content-type': 'application/json', 'x-api-key': KEY_A };
    await warm(() => raw(body, json));

    const chunked = await raw(body, json, true);
    expect(chunked).toMatchObject({ status: 411, cache: undefined });
    const padded = JSON.stringify({ query: `${query}${' '.repeat(1024)}` });
    const tooLarge = await raw(padded, json);
    expect(tooLarge).toMatchObject({ status: 413, cache: undefined });
    expect(JSON.parse(tooLarge.text).errors[0].extensions.code).toBe('REQUEST_TOO_LARGE');
    expect((await raw(body, json)).cache).toBe('hit');
  });

  it('enforces CSRF prevention: a stored body sent as a simple (non-preflighted) request is not served', async () => {
    await start();
    const [iccid] = h.sandbox.control.iccids({ status: 'ACTIVE' });
    const body = JSON.stringify({ query: `{ sim(iccid: "${iccid}") { iccid } }` });
    await warm(() => raw(body, { 'content-type': 'application/json', 'x-api-key': KEY_A }));
    for (const contentType of [
      'text/plain',
      'text/plain; charset=utf-8',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
    ]) {
      const simple = await raw(body, { 'content-type': contentType, 'x-api-key': KEY_A });
      expect(simple).toMatchObject({ status: 403, cache: undefined });
      expect(simple.text).toContain('CSRF');
      const withHeader = await raw(body, { 'content-type': contentType, 'x-api-key': KEY_A, 'x-graphql-csrf': '1' });
      expect(withHeader.cache).toBeUndefined();
    }
  });

  it('answers a hit with the head Yoga sends for the same request (content negotiation, CORS)', async () => {
    await start();
    const [iccid] = h.sandbox.control.iccids({ status: 'ACTIVE' });
    const body = JSON.stringify({ query: `{ sim(iccid: "${iccid}") { iccid } }` });
    const base = { 'content-type': 'application/json', 'x-api-key': KEY_A };
    const variants: Record<string, string>[] = [
      {},
      { accept: 'application/json' },
      { accept: 'application/graphql-response+json' },
      { 'content-type': 'application/json; charset=utf-8' },
      { origin: 'https://app.example' },
      { origin: 'https://other.example' },
      { origin: 'https://app.example', 'access-control-request-headers': 'x-api-key' },
      { origin: 'https://app.example', 'access-control-request-method': 'POST' },
    ];
    const head = (r: RawResponse) => {
      const {
        date: _date,
        'x-response-cache': _cache,
        connection: _connection,
        'keep-alive': _keepAlive,
        ...rest
      } = r.headers;
      return rest;
    };
    const heads = new Set<string>();
    for (const variant of variants) {
      const first = await raw(body, { ...base, ...variant });
      expect(first.cache).toBeUndefined(); // another variant's stored answer is not this one's
      await raw(body, { ...base, ...variant });
      const hit = await raw(body, { ...base, ...variant });
      expect(hit.cache).toBe('hit');
      expect(hit.status).toBe(first.status);
      expect(hit.text).toBe(first.text);
      expect(head(hit)).toEqual(head(first));
      heads.add(JSON.stringify(head(first)));
    }
    expect(heads.size).toBeGreaterThanOrEqual(6);
  });

  it('never serves a stored response to a different body with the same fingerprint', async () => {
    await start();
    const [iccid] = h.sandbox.control.iccids({ status: 'ACTIVE' });
    const name = 'aliasforthefingerprintcollisiontestwithplentyofletterstoflip';
    const one = JSON.stringify({ query: `{ ${name}: sim(iccid: "${iccid}") { iccid } }` });
    const two = sameFingerprint(one, name);
    expect(two).not.toBe(one);
    expect([two.length, crc32(two)]).toEqual([one.length, crc32(one)]);
    const json = { 'content-type': 'application/json', 'x-api-key': KEY_A };
    await warm(() => raw(one, json));
    const other = await raw(two, json);
    expect(other.cache).toBeUndefined();
    const alias = (r: RawResponse) => Object.keys(JSON.parse(r.text).data)[0];
    expect(alias(other)).toBe(JSON.parse(two).query.slice(2, 2 + name.length));
    expect(alias(other)).not.toBe(name);
    await warm(() => raw(two, json));
    expect(alias(await raw(two, json))).not.toBe(name);
    expect(alias(await raw(one, json))).toBe(name);
  });

  it('can be switched off', async () => {
    await start({ RESPONSE_CACHE: 'false' });
    const iccids = h.sandbox.control.iccids({ status: 'ACTIVE' }).slice(0, 1);
    await post(screen(iccids));
    expect((await post(screen(iccids))).cache).toBeNull();
  });
});
