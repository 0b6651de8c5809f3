/** Health, readiness, metrics, and secrets kept out of logs across forced error paths. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createMetricsHandler } from '../../src/app/metrics.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { type Harness, SANDBOX_CREDENTIALS, startHarness } from '../support/harness.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('operability', () => {
  it('answers /health while alive and /ready once an upstream token works', async () => {
    h = await startHarness();
    expect((await h.fetch('/health')).status).toBe(200);
    const ready = await h.fetch('/ready');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready' });
    expect(h.sandbox.control.countCalls({ endpoint: 'token' })).toBe(1);
  });

  it('answers /ready with 503 when the upstream refuses our credentials', async () => {
    h = await startHarness({
      sandbox: { credentials: { clientId: SANDBOX_CREDENTIALS.clientId, clientSecret: 'a-different-secret' } },
    });
    const ready = await h.fetch('/ready');
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ status: 'not ready' });
  });

  it('exposes Prometheus metrics: request durations, upstream calls by endpoint and status, 429s, cache events', async () => {
    h = await startHarness();
    const iccid = h.sandbox.control.iccids({ status: 'ACTIVE' })[0]!;
    h.sandbox.control.addFault({ endpoint: 'packages', iccid, rateLimit: { retryAfterSeconds: 60 }, times: 1 });
    await h.gql(`{ sim(iccid: "${iccid}") { usage { status } packageHistory { id } } }`);
    await h.gql(`{ sim(iccid: "${iccid}") { usage { status } } }`);
    // Served by the metrics listener only (METRICS_PORT), never by the GraphQL app.
    expect((await h.fetch('/metrics')).status).toBe(404);
    const server = createServer(createMetricsHandler(h.gateway.metrics));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const response = await fetch(`${base}/metrics`);
    expect((await fetch(`${base}/graphql`)).status).toBe(404);
    await new Promise((resolve) => server.close(resolve));
    expect(response.headers.get('content-type')).toMatch(/text\/plain/);
    const text = await response.text();
    expect(text).toMatch(/gateway_http_request_duration_seconds_count\{method="POST",status="200"\} 2/);
    expect(text).toMatch(/gateway_upstream_calls_total\{endpoint="usage",status="200"\} 1/);
    expect(text).toMatch(/gateway_upstream_calls_total\{endpoint="packages",status="429"\} 1/);
    expect(text).toMatch(/gateway_upstream_rate_limited_total\{endpoint="packages"\} 1/);
    expect(text).toMatch(/gateway_cache_events\{resource="usage",event="hit"\} 1/);
    expect(text).toMatch(/gateway_cache_events\{resource="usage",event="upstream_call"\} 1/);
  });
});

const upstreamTokensSoFar = (harness: Harness) => harness.sandbox.control.issuedTokens().at(-1);

describe('secrets', () => {
  it.each(['json', 'pretty'] as const)(
    'never writes the client secret, the upstream token, API keys or Authorization headers to the logs (%s)',
    async (format) => {
      const lines: string[] = [];
      const sink = new Writable({
        write(chunk, _enc, done) {
          lines.push(String(chunk));
          done();
        },
      });
      const apiKey = 'partner-backend-key-SECRET-0123456789';
      const jwtSecret = 'jwt-hs256-secret-that-must-never-be-logged';
      h = await startHarness({
        env: { AUTH_API_KEYS: `backend:${apiKey}`, AUTH_JWT_SECRET: jwtSecret, LOG_LEVEL: 'trace' },
        logger: createLogger('trace', sink, { format }),
      });
      const headers = { 'x-api-key': apiKey };
      const iccid = h.sandbox.control.iccids({ status: 'ACTIVE', hasTopups: true })[0]!;
      const packageId = h.sandbox.control.topupPackageIds(iccid)[0]!;
      // Force error paths: 5xx, malformed JSON, 429, an ambiguous purchase, a bad bearer token, an expired upstream token.
      h.sandbox.control.addFault({ endpoint: 'usage', errorStatus: 500, times: 3 });
      h.sandbox.control.addFault({ endpoint: 'topups', malformedJson: true, times: 1 });
      h.sandbox.control.addFault({ endpoint: 'packages', rateLimit: { retryAfterSeconds: 30 }, times: 1 });
      await h.gql(
        `{ sim(iccid: "${iccid}") { usage { status } topupPackages { id } packageHistory { id } } }`,
        {},
        headers,
      );
      h.sandbox.control.addFault({ endpoint: 'submitTopup', errorStatus: 502, times: 1 });
      await h.gql(
        `mutation { purchaseTopup(input: {iccid: "${iccid}", packageId: "${packageId}", idempotencyKey: "k"}) { __typename } }`,
        {},
        headers,
      );
      await h.gql('{ balance { available { amount } } }', {}, { authorization: `Bearer not.a.jwt` });
      await h.gql('{ balance { available { amount } } }', {}, { authorization: `Bearer ${apiKey}` });
      h.clock.advance(25 * 3_600_000); // past the daily token refresh
      await h.gql('{ balance { available { amount } } }', {}, headers);

      // A careless log call with secret-bearing fields: the redaction paths hold whatever the format.
      h.gateway.services.logger.warn(
        {
          headers: { authorization: `Bearer ${apiKey}` },
          upstream: { clientSecret: SANDBOX_CREDENTIALS.clientSecret },
          access_token: upstreamTokensSoFar(h),
        },
        'careless line',
      );
      const log = lines.join('');
      expect(log.length).toBeGreaterThan(0);
      expect(log).toContain('[redacted]');
      // The format asked for: JSON lines, or pino-pretty's "[time] LEVEL: msg" with fields on indented lines.
      if (format === 'json') expect(() => lines.map((l) => JSON.parse(l))).not.toThrow();
      else {
        expect(log).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] (TRACE|DEBUG|INFO|WARN)/m);
        expect(log).not.toMatch(/^\{"level"/m);
      }
      const upstreamTokens = h.sandbox.control.issuedTokens();
      expect(upstreamTokens.length).toBeGreaterThanOrEqual(2);
      for (const secret of [SANDBOX_CREDENTIALS.clientSecret, apiKey, jwtSecret, ...upstreamTokens])
        expect(log).not.toContain(secret);
      expect(log).not.toMatch(/Bearer [A-Za-z0-9._-]{8,}/);
    },
  );
});
