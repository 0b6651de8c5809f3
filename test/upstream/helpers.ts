/**
 * Shared set-up for the upstream tests: a MockAgent with net connect disabled, a manual clock, a client wired to both,
 * and the real example bodies from the docs (fixtures/*.json, copied verbatim).
 */
import { readFileSync } from 'node:fs';
import { type Dispatcher, MockAgent } from 'undici';
import { createManualClock, type ManualClock } from '../../src/platform/clock.ts';
import type { Flavour } from '../../src/upstream/index.ts';
import {
  createUpstreamClient,
  type UpstreamCallEvent,
  type UpstreamClient,
  type UpstreamClientOptions,
} from '../../src/upstream/index.ts';

function loadFixtures(name: string): Record<string, string> {
  return JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')) as Record<string, string>;
}

/** Bodies from the Airalo OpenAPI export, keyed `<endpoint>.<status>[-variant]`. */
export const airalo = loadFixtures('airalo-openapi-examples.json');
/** Bodies from the PressOne seed pages. */
export const pressone = loadFixtures('pressone-seed-examples.json');

export function fixture(set: Record<string, string>, key: string): string {
  const body = set[key];
  if (body === undefined) throw new Error(`no fixture ${key}`);
  return body;
}

/**
 * The docs annotate one example inline (`"status": "ACTIVE", // All Cases: [...]`), which is not JSON. A real server
 * sends no comments; tests of the happy path strip them, one test serves the literal text as malformed JSON.
 */
export function stripDocComments(text: string): string {
  return text.replace(/,[ \t]*\/\/[^\n]*/g, ',');
}

export const ORIGIN = 'https://partners.example.test';
export const CLIENT_ID = 'client-id-123';
export const CLIENT_SECRET = 'super-secret-client-secret-XYZ';
export const ACCESS_TOKEN = 'access-token-AAA';
export const basePaths: Record<Flavour, string> = { pressone: '/customer/v2', airalo: '/v2' };

export function tokenBody(accessToken = ACCESS_TOKEN, expiresIn: number | string = 31622400): string {
  return JSON.stringify({
    data: { token_type: 'Bearer', expires_in: expiresIn, access_token: accessToken },
    meta: { message: 'success' },
  });
}

export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string | null;
}

function normaliseHeaders(headers: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (Array.isArray(headers)) {
    for (let i = 0; i < headers.length; i += 2) out[String(headers[i]).toLowerCase()] = String(headers[i + 1]);
  } else if (headers && typeof headers === 'object') {
    for (const [k, v] of Object.entries(headers)) out[k.toLowerCase()] = String(v);
  }
  return out;
}

export interface Harness {
  agent: MockAgent;
  pool: ReturnType<MockAgent['get']>;
  clock: ManualClock;
  client: UpstreamClient;
  base: string;
  /** Every request that reached the mock, in order. */
  requests: RecordedRequest[];
  calls: UpstreamCallEvent[];
  tokenRequests(): RecordedRequest[];
  /** Registers a token endpoint that always succeeds with ACCESS_TOKEN (or the given sequence of tokens). */
  serveTokens(...tokens: string[]): void;
  /** Registers one reply for `method path` (path relative to the base path; exact match including query). */
  reply(method: string, path: string, status: number, body: string, headers?: Record<string, string>): void;
  close(): Promise<void>;
}

export function createHarness(flavour: Flavour, options: Partial<UpstreamClientOptions> = {}): Harness {
  const agent = new MockAgent();
  agent.disableNetConnect();
  const pool = agent.get(ORIGIN);
  const clock = createManualClock();
  const requests: RecordedRequest[] = [];
  const calls: UpstreamCallEvent[] = [];
  const base = basePaths[flavour];

  const record = (opts: { method: string; path: string; headers?: unknown; body?: unknown }) => {
    requests.push({
      method: opts.method,
      path: opts.path,
      headers: normaliseHeaders(opts.headers),
      body: typeof opts.body === 'string' ? opts.body : opts.body == null ? null : String(opts.body),
    });
  };

  const client = createUpstreamClient({
    baseUrl: `${ORIGIN}${base}`,
    flavour,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    clock,
    onCall: (e) => calls.push(e),
    dispatcher: agent as Dispatcher,
    ...options,
  });

  return {
    agent,
    pool,
    clock,
    client,
    base,
    requests,
    calls,
    tokenRequests: () => requests.filter((r) => r.path.endsWith('/token')),
    serveTokens(...tokens) {
      const queue = tokens.length ? [...tokens] : [ACCESS_TOKEN];
      pool
        .intercept({ path: `${base}/token`, method: 'POST' })
        .reply((opts) => {
          record(opts as never);
          const next = queue.length > 1 ? queue.shift()! : queue[0]!;
          return {
            statusCode: 200,
            data: tokenBody(next),
            responseOptions: { headers: { 'content-type': 'application/json' } },
          };
        })
        .persist();
    },
    reply(method, path, status, body, headers = { 'content-type': 'application/json' }) {
      pool.intercept({ path: `${base}${path}`, method }).reply((opts) => {
        record(opts as never);
        return { statusCode: status, data: body, responseOptions: { headers } };
      });
    },
    async close() {
      await client.close();
      await agent.close();
    },
  };
}
