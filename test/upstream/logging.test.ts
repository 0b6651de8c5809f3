/**
 * One structured pino line per upstream call — debug on success, warn on failure — and never a secret: the client
 * secret, an access token, the Authorization header or an upstream body must not appear in any line, on any path.
 * MockAgent for the answer-shaped paths; a real node:http server where the socket matters (timeouts, resets).
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Logger, pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { SANDBOX_CREDENTIALS } from '../../src/sandbox/index.ts';
import { createUpstreamClient, type UpstreamClient } from '../../src/upstream/index.ts';
import { airalo, CLIENT_SECRET, createHarness, fixture, type Harness, stripDocComments, tokenBody } from './helpers.ts';

const ICCID = '8910300000005271146';
const BALANCE = JSON.stringify({
  data: { balances: { name: 'balance', availableBalance: { amount: '7.10', currency: 'EUR' } } },
  meta: { message: 'success' },
});
const USAGE = stripDocComments(fixture(airalo, 'usage.200'));
/** Distinctive strings: none may ever reach a log line. */
const TOKEN_1 = 'tok-FIRST-7d1e9a';
const TOKEN_2 = 'tok-SECOND-44b0c2';
const BODY_MARKER = 'BODY-MARKER-do-not-log';

interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

function memoryLogger(): { logger: Logger; lines: LogLine[]; raw: string[] } {
  const raw: string[] = [];
  const logger = pino({ level: 'debug' }, { write: (chunk: string) => void raw.push(chunk) });
  return {
    logger,
    raw,
    get lines() {
      return raw.map((line) => JSON.parse(line) as LogLine);
    },
  };
}

const DEBUG = 20;
const WARN = 40;
const callLines = (lines: LogLine[]) => lines.filter((l) => typeof l.endpoint === 'string');

function expectNoSecrets(raw: string[], ...extra: string[]): void {
  const text = raw.join('\n');
  expect(raw.length).toBeGreaterThan(0);
  for (const secret of [CLIENT_SECRET, TOKEN_1, TOKEN_2, 'access-token-AAA', BODY_MARKER, ...extra])
    expect(text).not.toContain(secret);
  expect(text).not.toMatch(/authorization|bearer|client_secret|access_token/i);
}

let harness: Harness | undefined;
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await harness?.close();
  harness = undefined;
  while (cleanups.length) await cleanups.pop()!();
});

function setup(logger: Logger, options: { getRetries?: number } = {}): Harness {
  harness = createHarness('airalo', { logger, ...options });
  return harness;
}

describe('upstream call log (MockAgent)', () => {
  it('logs each successful call at debug with endpoint, method, status, durationMs, attempt and iccid', async () => {
    const log = memoryLogger();
    const h = setup(log.logger);
    h.serveTokens(TOKEN_1);
    h.reply('GET', `/sims/${ICCID}/usage`, 200, USAGE);
    await h.client.getUsage(ICCID);
    const lines = callLines(log.lines);
    expect(lines).toEqual([
      expect.objectContaining({
        level: DEBUG,
        endpoint: 'token',
        method: 'POST',
        status: 200,
        attempt: 1,
        msg: 'upstream call',
      }),
      expect.objectContaining({
        level: DEBUG,
        endpoint: 'usage',
        method: 'GET',
        status: 200,
        attempt: 1,
        iccid: ICCID,
        msg: 'upstream call',
      }),
    ]);
    expect(lines[1]!.durationMs).toBeTypeOf('number');
    expect(lines[0]).not.toHaveProperty('iccid');
    expectNoSecrets(log.raw);
  });

  it('a 401 refresh: warn for the refused call, then a new token and a successful retry; no token in any line', async () => {
    const log = memoryLogger();
    const h = setup(log.logger);
    h.serveTokens(TOKEN_1, TOKEN_2);
    h.reply('GET', '/balance', 401, fixture(airalo, 'order.401'));
    h.reply('GET', '/balance', 200, BALANCE);
    await h.client.getBalance();
    expect(callLines(log.lines).map((l) => [l.endpoint, l.status, l.level])).toEqual([
      ['token', 200, DEBUG],
      ['balance', 401, WARN],
      ['token', 200, DEBUG],
      ['balance', 200, DEBUG],
    ]);
    expect(callLines(log.lines)[1]).toMatchObject({ error: 'UpstreamAuthError' });
    expectNoSecrets(log.raw);
  });

  it.each([
    [401, 'token.401', 'UpstreamAuthError'],
    [422, 'token.422', 'UpstreamValidationError'],
  ])('the token endpoint answering %i: one warn line, no secret', async (status, key, error) => {
    const log = memoryLogger();
    const h = setup(log.logger);
    h.reply(
      'POST',
      '/token',
      status,
      fixture(airalo, key).replace('Client authentication failed', `Client authentication failed ${BODY_MARKER}`),
    );
    await expect(h.client.getBalance()).rejects.toMatchObject({ name: 'UpstreamAuthError' });
    expect(callLines(log.lines)).toEqual([
      expect.objectContaining({ level: WARN, endpoint: 'token', method: 'POST', status, error }),
    ]);
    expectNoSecrets(log.raw, SANDBOX_CREDENTIALS.clientSecret, 'The selected client id is invalid');
  });

  it('5xx: warn with the final status and the attempt it came from (after GET retries)', async () => {
    const log = memoryLogger();
    const h = setup(log.logger);
    h.serveTokens(TOKEN_1);
    for (let i = 0; i < 3; i++) h.reply('GET', '/balance', 503, `{"message":"Service Unavailable ${BODY_MARKER}"}`);
    await expect(h.client.getBalance()).rejects.toMatchObject({ name: 'UpstreamUnavailableError' });
    expect(callLines(log.lines).at(-1)).toMatchObject({
      level: WARN,
      endpoint: 'balance',
      method: 'GET',
      status: 503,
      attempt: 3,
      error: 'UpstreamUnavailableError',
      msg: 'upstream call failed',
    });
    expectNoSecrets(log.raw);
  });

  it('malformed JSON in a 200: warn, without echoing the body', async () => {
    const log = memoryLogger();
    const h = setup(log.logger);
    h.serveTokens(TOKEN_1);
    h.reply('GET', `/sims/${ICCID}/usage`, 200, `{"data":{"remaining":"${BODY_MARKER}`);
    await expect(h.client.getUsage(ICCID)).rejects.toMatchObject({ name: 'UpstreamBadResponseError' });
    expect(callLines(log.lines).at(-1)).toMatchObject({
      level: WARN,
      endpoint: 'usage',
      status: 200,
      iccid: ICCID,
      error: 'UpstreamBadResponseError',
      contractViolation: true,
      msg: 'upstream answer violates its contract',
    });
    expectNoSecrets(log.raw);
  });

  it('a 404 is an answer, not a failure: debug', async () => {
    const log = memoryLogger();
    const h = setup(log.logger);
    h.serveTokens(TOKEN_1);
    h.reply('GET', `/sims/${ICCID}/topups`, 404, '{"data":[],"meta":{"message":"messages.resource_not_found"}}');
    await expect(h.client.getTopups(ICCID)).rejects.toMatchObject({ name: 'UpstreamNotFoundError' });
    expect(callLines(log.lines).at(-1)).toMatchObject({
      level: DEBUG,
      endpoint: 'topups',
      status: 404,
      error: 'UpstreamNotFoundError',
    });
  });

  it.each([
    [
      'a business refusal (recycled SIM)',
      '{"code":73,"reason":"The eSIM has been recycled."}',
      'UpstreamBusinessError',
    ],
    [
      'a field validation refusal',
      '{"data":{"iccid":"The iccid field is required."},"meta":{"message":"the parameter is invalid"}}',
      'UpstreamValidationError',
    ],
  ])('a 422, %s, is an answer, not a failure: debug, never warn', async (_what, body, error) => {
    const log = memoryLogger();
    const h = setup(log.logger);
    h.serveTokens(TOKEN_1);
    h.reply('GET', `/sims/${ICCID}/topups`, 422, body);
    await expect(h.client.getTopups(ICCID)).rejects.toMatchObject({ name: error });
    expect(callLines(log.lines).at(-1)).toMatchObject({ level: DEBUG, endpoint: 'topups', status: 422, error });
    expect(log.lines.filter((l) => l.level >= WARN)).toEqual([]);
  });

  it('logs breaker transitions, and calls it refuses, without secrets', async () => {
    const log = memoryLogger();
    const h = setup(log.logger, { getRetries: 0 });
    h.serveTokens(TOKEN_1);
    for (let i = 0; i < 5; i++) h.reply('GET', '/balance', 500, '');
    for (let i = 0; i < 5; i++) await h.client.getBalance().catch(() => undefined);
    await h.client.getBalance().catch(() => undefined);
    const lines = log.lines;
    expect(lines).toContainEqual(expect.objectContaining({ level: WARN, breaker: 'open' }));
    expect(lines.at(-1)).toMatchObject({
      level: DEBUG,
      endpoint: 'balance',
      msg: 'upstream call refused: circuit open',
    });
    expectNoSecrets(log.raw);
  });
});

describe('upstream call log (real sockets)', () => {
  async function startUpstream(handler: (path: string, res: ServerResponse) => void): Promise<string> {
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        if (req.url === '/v2/token') res.writeHead(200, { 'content-type': 'application/json' }).end(tokenBody(TOKEN_1));
        else handler(req.url ?? '', res);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    );
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/v2`;
  }

  function clientFor(baseUrl: string, logger: Logger): UpstreamClient {
    const client = createUpstreamClient({
      baseUrl,
      flavour: 'airalo',
      clientId: 'id',
      clientSecret: CLIENT_SECRET,
      timeouts: { connectMs: 500, headersMs: 150, bodyMs: 150 },
      logger,
    });
    cleanups.push(() => client.close());
    return client;
  }

  it('a headers timeout: warn with status 0 and attempt 1 (timeouts are not retried)', async () => {
    const log = memoryLogger();
    const client = clientFor(await startUpstream(() => undefined), log.logger);
    await expect(client.getBalance()).rejects.toMatchObject({ name: 'UpstreamUnavailableError' });
    expect(callLines(log.lines).at(-1)).toMatchObject({
      level: WARN,
      endpoint: 'balance',
      status: 0,
      attempt: 1,
      error: 'UpstreamUnavailableError',
      reason: expect.stringContaining('UND_ERR_HEADERS_TIMEOUT'),
    });
    expectNoSecrets(log.raw);
  });

  it('a reset mid-body: warn, no body fragment', async () => {
    const log = memoryLogger();
    const body = JSON.stringify({ data: { marker: BODY_MARKER, pad: 'x'.repeat(200) } });
    const client = clientFor(
      await startUpstream((_, res) => {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(body.length) });
        res.write(body.slice(0, 60), () => res.socket?.destroy());
      }),
      log.logger,
    );
    await expect(client.getBalance()).rejects.toMatchObject({ name: 'UpstreamUnavailableError' });
    expect(callLines(log.lines).at(-1)).toMatchObject({
      level: WARN,
      endpoint: 'balance',
      error: 'UpstreamUnavailableError',
    });
    expectNoSecrets(log.raw);
  });
});
