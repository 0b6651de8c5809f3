/**
 * The HTTP edge: authentication (one 401 for every failure, before anything is parsed; JWT requirements),
 * CORS, error detail in responses, and what `/ready` costs — through `yoga.fetch` and over a real socket
 * (the node:http handler with its response-cache fast path).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { SignJWT } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpHandler } from '../../src/app/http-handler.ts';
import { UNAUTHENTICATED_MESSAGE } from '../../src/domain/auth.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { type Harness, startHarness } from '../support/harness.ts';

const API_KEY = 'partner-backend-key-0123456789abcdef';
const JWT_SECRET = 'test-jwt-secret-that-is-long-enough-for-hs256';
const UNAUTHENTICATED_BODY = JSON.stringify({
  errors: [{ message: UNAUTHENTICATED_MESSAGE, extensions: { code: 'UNAUTHENTICATED' } }],
});

let h: Harness | undefined;
let server: Server | undefined;
let lines: string[] = [];
afterEach(async () => {
  if (server) await new Promise((resolve) => server!.close(resolve));
  await h?.close();
  h = server = undefined;
  lines = [];
});

async function start(env: Record<string, string>): Promise<Harness> {
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  h = await startHarness({
    env: { AUTH_API_KEYS: `backend:${API_KEY}`, AUTH_JWT_SECRET: JWT_SECRET, ...env },
    logger: createLogger('info', sink),
  });
  return h;
}

/** The node:http handler (response-cache fast path included) on an ephemeral port; its /graphql URL. */
async function listen(harness: Harness): Promise<string> {
  server = createServer(createHttpHandler(harness.gateway));
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
}

const seconds = () => Math.floor(h!.clock.now() / 1000);

/** An HS256 token on the gateway's clock; `claims` overrides (undefined drops a claim). */
function jwt(claims: Record<string, unknown> = {}, secret = JWT_SECRET): Promise<string> {
  const all: Record<string, unknown> = { sub: 'user-1', iat: seconds(), exp: seconds() + 3600, iccids: [], ...claims };
  for (const [name, value] of Object.entries(all)) if (value === undefined) delete all[name];
  return new SignJWT(all).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(secret));
}

function post(harness: Harness, body: string, headers: Record<string, string> = {}): Promise<Response> {
  return harness.fetch('/graphql', {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json',
      'content-length': String(Buffer.byteLength(body)),
      ...headers,
    },
    body,
  });
}

const TYPENAME = JSON.stringify({ query: '{ __typename }' });

describe('authentication failures', () => {
  it('answer one 401 body whatever failed; the reason is logged without the credential', async () => {
    const harness = await start({ AUTH_JWT_ISSUER: 'https://id.example', AUTH_JWT_AUDIENCE: 'esim-gateway' });
    const good = { iss: 'https://id.example', aud: 'esim-gateway' };
    const attempts: Record<string, Record<string, string>> = {
      'no credentials': {},
      'unknown API key': { 'x-api-key': 'wrong-key-wrong-key-wrong-key-0123' },
      'not a JWT': { authorization: 'Bearer not-a-jwt-at-all' },
      'basic auth': { authorization: 'Basic dXNlcjpwYXNz' },
      forged: { authorization: `Bearer ${await jwt(good, 'another-secret-that-is-long-enough-for-hs256')}` },
      expired: { authorization: `Bearer ${await jwt({ ...good, iat: seconds() - 7200, exp: seconds() - 60 })}` },
      'no subject': { authorization: `Bearer ${await jwt({ ...good, sub: undefined })}` },
      'no exp': { authorization: `Bearer ${await jwt({ ...good, exp: undefined })}` },
      'no iat': { authorization: `Bearer ${await jwt({ ...good, iat: undefined })}` },
      'wrong issuer': { authorization: `Bearer ${await jwt({ ...good, iss: 'https://evil.example' })}` },
      'wrong audience': { authorization: `Bearer ${await jwt({ ...good, aud: 'another-app' })}` },
    };
    for (const [what, headers] of Object.entries(attempts)) {
      const response = await post(harness, TYPENAME, headers);
      expect(response.status, what).toBe(401);
      expect(response.headers.get('www-authenticate'), what).toBe('Bearer');
      expect(await response.text(), what).toBe(UNAUTHENTICATED_BODY);
    }
    expect((await post(harness, TYPENAME, { authorization: `Bearer ${await jwt(good)}` })).status).toBe(200);

    const failures = lines
      .map((l) => JSON.parse(l) as { msg: string; reason?: string })
      .filter((l) => l.msg === 'authentication failed');
    expect(failures).toHaveLength(Object.keys(attempts).length);
    const reasons = failures.map((f) => f.reason!);
    expect(reasons[1]).toBe('unknown API key');
    expect(reasons.join('\n')).toMatch(/"exp"[\s\S]*"sub"[\s\S]*"exp"[\s\S]*"iat"[\s\S]*"iss"[\s\S]*"aud"/);
    const log = lines.join('');
    for (const headers of Object.values(attempts)) {
      for (const value of Object.values(headers)) expect(log).not.toContain(value.replace(/^(Bearer|Basic) /, ''));
    }
  });

  it('require exp and iat, and refuse a token issued longer ago than AUTH_JWT_MAX_AGE_SECONDS whatever its exp', async () => {
    const harness = await start({ AUTH_JWT_MAX_AGE_SECONDS: '600' });
    const status = async (token: string) =>
      (await post(harness, TYPENAME, { authorization: `Bearer ${token}` })).status;
    const yearLong = await jwt({ exp: seconds() + 365 * 86_400 });
    expect(await status(yearLong)).toBe(200);
    expect(await status(await jwt({ iat: seconds() - 300 }))).toBe(200);
    expect(await status(await jwt({ iat: seconds() - 601 }))).toBe(401);
    expect(await status(await jwt({ exp: undefined }))).toBe(401);
    expect(await status(await jwt({ iat: undefined, exp: seconds() + 60 }))).toBe(401);
    expect(await status(await jwt({ iat: seconds() + 120 }))).toBe(401); // issued in the future
    // The same year-long token, 10 minutes later on the gateway's clock: too old.
    h!.clock.advance(601_000);
    expect(await status(yearLong)).toBe(401);
  });
});

describe('authentication comes before parsing', () => {
  const probes = [
    JSON.stringify({ query: '{ nope }' }),
    JSON.stringify({ query: '{ sim(iccid: "1") { secretField } }' }),
    JSON.stringify({ query: '{ __schema { types { name } } }' }),
    JSON.stringify({ query: '{ sim(' }),
    '{"query": "{ not json',
  ];

  it('an unauthenticated request gets the 401 and no parse or validation message (yoga.fetch, introspection off)', async () => {
    const harness = await start({ INTROSPECTION: 'false' });
    for (const body of probes) {
      const response = await post(harness, body);
      expect(response.status, body).toBe(401);
      expect(await response.text(), body).toBe(UNAUTHENTICATED_BODY);
    }
    const get = await harness.fetch(`/graphql?query=${encodeURIComponent('{ nope }')}`, {
      headers: { accept: 'application/json', 'x-graphql-csrf': '1' },
    });
    expect(get.status).toBe(401);
    expect(await get.text()).toBe(UNAUTHENTICATED_BODY);
    // Authenticated, the same probe is parsed and validated as usual.
    const authenticated = await post(harness, probes[0]!, { 'x-api-key': API_KEY });
    expect(await authenticated.text()).toMatch(/Cannot query field/);
    expect(harness.sandbox.control.countCalls()).toBe(0);
  });

  it('verifies the credential once per HTTP request, batched operations included', async () => {
    const harness = await start({});
    const authenticator = harness.gateway.services.authenticator;
    const authenticate = authenticator.authenticate.bind(authenticator);
    let calls = 0;
    (authenticator as { authenticate: typeof authenticate }).authenticate = (headers) => {
      calls++;
      return authenticate(headers);
    };
    const batch = JSON.stringify([
      { query: '{ __typename }' },
      { query: '{ a: __typename }' },
      { query: '{ b: __typename }' },
    ]);
    const response = await post(harness, batch, { authorization: `Bearer ${await jwt()}` });
    expect(await response.json()).toEqual([
      { data: { __typename: 'Query' } },
      { data: { a: 'Query' } },
      { data: { b: 'Query' } },
    ]);
    expect(calls).toBe(1);
  });

  it('holds over a real socket, with and without the response cache', async () => {
    for (const responseCache of ['true', 'false']) {
      const harness = await start({ INTROSPECTION: 'false', RESPONSE_CACHE: responseCache });
      const url = await listen(harness);
      for (const body of probes) {
        for (const headers of [
          {},
          { 'x-api-key': 'wrong-key-wrong-key-wrong-key-0123' },
          { authorization: 'Bearer x.y.z' },
        ] as Record<string, string>[]) {
          const response = await fetch(url, {
            method: 'POST',
            headers: { 'content-type': 'application/json', ...headers },
            body,
          });
          expect(response.status, `${responseCache} ${body}`).toBe(401);
          expect(await response.text()).toBe(UNAUTHENTICATED_BODY);
        }
      }
      await new Promise((resolve) => server!.close(resolve));
      await harness.close();
      h = server = undefined;
    }
  });
});

describe('CORS', () => {
  const preflight = (harness: Harness, origin: string) =>
    harness.fetch('/graphql', {
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type, x-api-key',
      },
    });

  it('allows only CORS_ORIGINS, never with credentials; a response-cache hit carries the same headers', async () => {
    const harness = await start({ CORS_ORIGINS: 'https://app.example, https://admin.example:8443' });
    const allowed = await preflight(harness, 'https://app.example');
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(allowed.headers.get('access-control-allow-credentials')).toBeNull();
    expect(allowed.headers.get('vary')).toMatch(/Origin/);
    const refused = await preflight(harness, 'https://evil.example');
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
    expect(refused.headers.get('access-control-allow-methods')).toBeNull();

    const url = await listen(harness);
    const [iccid] = harness.sandbox.control.iccids({ status: 'ACTIVE' });
    const body = JSON.stringify({ query: `{ sim(iccid: "${iccid}") { iccid } }` });
    for (const [origin, expected] of [
      ['https://admin.example:8443', 'https://admin.example:8443'],
      ['https://evil.example', null],
      ['null', null],
    ] as const) {
      for (let i = 0; i < 3; i++) {
        const response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-api-key': API_KEY, origin },
          body,
        });
        expect(response.status).toBe(200);
        expect(response.headers.get('access-control-allow-origin'), `${origin} #${i}`).toBe(expected);
        expect(response.headers.get('access-control-allow-credentials')).toBeNull();
        if (i === 2) expect(response.headers.get('x-response-cache'), origin).toBe('hit');
        await response.arrayBuffer();
      }
    }
  });

  it('on the built-in sandbox, by default, allows any origin (local frontends) without credentials', async () => {
    const harness = await start({});
    const response = await post(harness, TYPENAME, { 'x-api-key': API_KEY, origin: 'http://localhost:5173' });
    expect(response.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
    expect(response.headers.get('access-control-allow-credentials')).toBeNull();
  });
});

describe('error detail', () => {
  it('never sends the original error, its stack or the JSON parser message, even with NODE_ENV=development', async () => {
    const previous = process.env.NODE_ENV;
    process.env.NODE_ENV = 'development';
    try {
      const harness = await start({});
      (harness.gateway.services.caches.usage as any).options.load = async () => {
        throw new Error('internal detail: db password=hunter2');
      };
      const [iccid] = harness.sandbox.control.iccids({ status: 'ACTIVE' });
      const broken = await post(harness, JSON.stringify({ query: `{ sim(iccid: "${iccid}") { usage { status } } }` }), {
        'x-api-key': API_KEY,
      });
      const text = await broken.text();
      expect(JSON.parse(text).errors[0].message).toBe('Unexpected error.');
      expect(text).not.toMatch(/hunter2|internal detail|originalError|stack/);

      for (const accept of ['application/json', 'application/graphql-response+json']) {
        const malformed = await post(harness, '{"query": "{ __typename }", "secret-ish body', {
          'x-api-key': API_KEY,
          accept,
        });
        expect(malformed.status).toBe(400);
        expect(JSON.parse(await malformed.clone().text())).toEqual({
          errors: [{ message: 'POST body sent invalid JSON.', extensions: { code: 'BAD_REQUEST' } }],
        });
        expect(await malformed.text()).not.toMatch(/secret-ish|originalError|SyntaxError/);
      }
    } finally {
      if (previous === undefined) delete process.env.NODE_ENV;
      else process.env.NODE_ENV = previous;
    }
  });
});

describe('/ready', () => {
  it('answers anyone from the last check: at most one upstream check per READY_CHECK_INTERVAL_SECONDS', async () => {
    const harness = await start({
      READY_CHECK_INTERVAL_SECONDS: '10',
      UPSTREAM_GET_RETRIES: '0',
      UPSTREAM_BREAKER_CONSECUTIVE_FAILURES: '1000',
      UPSTREAM_BREAKER_MIN_CALLS: '100000',
      CACHE_BALANCE_TTL_SECONDS: '0',
    });
    const balanceCalls = () => harness.sandbox.control.countCalls({ endpoint: 'balance' });
    const ready = async (n: number) => {
      const responses = await Promise.all(Array.from({ length: n }, () => harness.fetch('/ready')));
      return responses.map((r) => r.status);
    };
    expect(new Set(await ready(100))).toEqual(new Set([200]));
    expect(balanceCalls()).toBe(1);

    const fault = harness.sandbox.control.addFault({ endpoint: 'balance', errorStatus: 500 });
    for (let i = 0; i < 100; i++) expect((await harness.fetch('/ready')).status).toBe(200); // the last check, within 10 s
    expect(balanceCalls()).toBe(1);

    harness.clock.advance(10_000);
    expect(new Set(await ready(100))).toEqual(new Set([200])); // answered from the last result; one re-check starts
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(balanceCalls()).toBe(2);
    expect(new Set(await ready(100))).toEqual(new Set([503]));
    for (let i = 0; i < 100; i++) expect((await harness.fetch('/ready')).status).toBe(503);
    expect(balanceCalls()).toBe(2);

    harness.sandbox.control.removeFault(fault);
    harness.clock.advance(10_000);
    await ready(100);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await ready(1)).toEqual([200]);
    expect(balanceCalls()).toBe(3);
  });
});
