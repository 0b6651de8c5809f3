/**
 * OpenTelemetry traces end to end: one GraphQL request over a real socket through the production HTTP handler →
 * the span tree (request → operation → loading resolvers → upstream calls), their attributes, no secret anywhere,
 * the W3C `traceparent` the sandbox received, and log lines carrying the trace id.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpHandler } from '../../src/app/http-handler.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { type Harness, SANDBOX_CREDENTIALS, startHarness } from '../support/harness.ts';

const API_KEY = 'partner-a-key-0123456789abcdefghij';
const INCOMING_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const INCOMING_SPAN = '00f067aa0ba902b7';

let h: Harness | undefined;
let server: Server | undefined;

afterEach(async () => {
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  await h?.close();
  server = undefined;
  h = undefined;
});

async function listen(harness: Harness): Promise<string> {
  server = createServer(createHttpHandler(harness.gateway));
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
}

function logSink() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { lines, logger: createLogger('debug', stream, { traceIds: true }) };
}

const screen = (iccids: string[]) =>
  `query Screen { balance { available { amount } } sims(iccids: ${JSON.stringify(iccids)}) { iccid usage { status remainingMb } topupPackages { id } } }`;

const byName = (spans: ReadableSpan[], name: string) => spans.filter((s) => s.name === name);
const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;

describe('tracing', () => {
  it('one request → request, operation, loading-resolver and upstream spans with parent links, traceparent sent upstream, trace id in logs', async () => {
    const exporter = new InMemorySpanExporter();
    const { lines, logger } = logSink();
    h = await startHarness({ env: { AUTH_API_KEYS: `a:${API_KEY}` }, spanExporter: exporter, logger });
    const url = await listen(h);
    const iccids = h.sandbox.control.iccids({ status: 'ACTIVE' }).slice(0, 2);

    const response = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-api-key': API_KEY,
        traceparent: `00-${INCOMING_TRACE}-${INCOMING_SPAN}-01`,
      },
      body: JSON.stringify({ query: screen(iccids) }),
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { errors?: unknown };
    expect(body.errors).toBeUndefined();

    const spans = exporter.getFinishedSpans();
    // Every span belongs to the caller's trace.
    expect(new Set(spans.map((s) => s.spanContext().traceId))).toEqual(new Set([INCOMING_TRACE]));

    const [request] = byName(spans, 'POST /graphql');
    expect(request).toBeDefined();
    expect(request!.kind).toBe(SpanKind.SERVER);
    expect(parentOf(request!)).toBe(INCOMING_SPAN);
    expect(request!.attributes).toMatchObject({
      'http.request.method': 'POST',
      'url.path': '/graphql',
      'http.response.status_code': 200,
      'gateway.response_cache': 'miss',
    });

    const [operation] = byName(spans, 'query Screen');
    expect(operation).toBeDefined();
    expect(parentOf(operation!)).toBe(request!.spanContext().spanId);
    expect(operation!.attributes).toMatchObject({
      'graphql.operation.type': 'query',
      'graphql.operation.name': 'Screen',
    });

    // Resolver spans: the loading fields only, each under the operation.
    const resolverNames = ['Query.balance', 'Query.sims', 'Sim.usage', 'Sim.topupPackages'];
    const resolvers = spans.filter((s) => resolverNames.includes(s.name));
    expect(resolvers.map((s) => s.name).sort()).toEqual([
      'Query.balance',
      'Query.sims',
      'Sim.topupPackages',
      'Sim.topupPackages',
      'Sim.usage',
      'Sim.usage',
    ]);
    for (const span of resolvers) expect(parentOf(span)).toBe(operation!.spanContext().spanId);
    expect(spans.filter((s) => /^(Sim\.iccid|Usage\.|TopupPackage\.|Balance\.|Money\.)/.test(s.name))).toEqual([]);
    const usage = byName(spans, 'Sim.usage').find((s) => s.attributes['esim.iccid'] === iccids[0])!;
    expect(usage.attributes).toMatchObject({
      'graphql.field.path': 'sims.0.usage',
      'gateway.cache.resource': 'usage',
      'gateway.cache.outcome': 'miss',
    });

    // Upstream spans: client kind, each under the resolver whose read started it (usage and top-ups are prefetched by `sims`).
    const upstream = spans.filter((s) => s.kind === SpanKind.CLIENT);
    expect(upstream.map((s) => s.name).sort()).toEqual(
      [
        'upstream balance',
        'upstream sim',
        'upstream sim',
        'upstream token',
        'upstream topups',
        'upstream topups',
        'upstream usage',
        'upstream usage',
      ].sort(),
    );
    const resolverIds = new Set(resolvers.map((s) => s.spanContext().spanId));
    for (const span of upstream) expect(resolverIds.has(parentOf(span)!)).toBe(true);
    expect(parentOf(byName(spans, 'upstream balance')[0]!)).toBe(
      byName(spans, 'Query.balance')[0]!.spanContext().spanId,
    );
    const sims = byName(spans, 'Query.sims')[0]!.spanContext().spanId;
    for (const span of [...byName(spans, 'upstream usage'), ...byName(spans, 'upstream sim')])
      expect(parentOf(span)).toBe(sims);
    expect(byName(spans, 'upstream usage')[0]!.attributes).toMatchObject({
      'upstream.endpoint': 'usage',
      'http.request.method': 'GET',
      'http.response.status_code': 200,
      'upstream.attempts': 1,
      'upstream.outcome': 'ok',
      'upstream.breaker_state': 'closed',
    });

    // The sandbox received a W3C traceparent naming the caller's trace and the very upstream span.
    const calls = h.sandbox.control.calls();
    expect(calls.length).toBe(upstream.length);
    const upstreamIds = new Set(upstream.map((s) => s.spanContext().spanId));
    for (const call of calls) {
      const [version, traceId, parentId, flags] = call.traceparent!.split('-');
      expect([version, traceId, flags]).toEqual(['00', INCOMING_TRACE, '01']);
      expect(upstreamIds.has(parentId!)).toBe(true);
    }

    // No credential in any span: not the upstream token, the client secret, the API key, nor an Authorization header.
    const secrets = [SANDBOX_CREDENTIALS.clientSecret, API_KEY, ...h.sandbox.control.issuedTokens(), 'Bearer'];
    const recorded = JSON.stringify(spans.map((s) => [s.name, s.attributes, s.events, s.status]));
    for (const secret of secrets) expect(recorded).not.toContain(secret);
    expect(recorded.toLowerCase()).not.toContain('authorization');

    // Log lines written inside the request carry its trace id (the upstream client's debug line per call).
    const upstreamLogs = lines.filter((l) => l.msg === 'upstream call');
    expect(upstreamLogs.length).toBe(upstream.length);
    for (const line of upstreamLogs) {
      expect(line.trace_id).toBe(INCOMING_TRACE);
      expect(typeof line.span_id).toBe('string');
    }

    // Outside any span a line has no trace id, and its own fields never leak into the next line.
    logger.warn({ first: 1 }, 'outside a request');
    logger.warn({ second: 2 }, 'outside a request');
    const outside = lines.filter((l) => l.msg === 'outside a request');
    expect(outside.map((l) => [l.first, l.second, l.trace_id])).toEqual([
      [1, undefined, undefined],
      [undefined, 2, undefined],
    ]);
  });

  it('a repeat is served from the caches (resolver spans say hit, no upstream span), then from the response cache (one span, hit)', async () => {
    const exporter = new InMemorySpanExporter();
    h = await startHarness({ env: { AUTH_API_KEYS: `a:${API_KEY}` }, spanExporter: exporter });
    const url = await listen(h);
    const iccids = h.sandbox.control.iccids({ status: 'ACTIVE' }).slice(0, 1);
    const post = () =>
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': API_KEY },
        body: JSON.stringify({ query: screen(iccids) }),
      });

    await (await post()).text();
    exporter.reset();
    await (await post()).text(); // executed again (the first answer is never stored), from the resource caches: now stored
    let spans = exporter.getFinishedSpans();
    expect(spans.filter((s) => s.kind === SpanKind.CLIENT)).toEqual([]);
    expect(byName(spans, 'Sim.usage')[0]!.attributes['gateway.cache.outcome']).toBe('hit');
    expect(byName(spans, 'Query.balance')[0]!.attributes['gateway.cache.outcome']).toBe('hit');

    exporter.reset();
    const third = await post();
    expect(third.headers.get('x-response-cache')).toBe('hit');
    await third.text();
    spans = exporter.getFinishedSpans();
    expect(
      spans.map((s) => [
        s.name,
        s.kind,
        s.attributes['gateway.response_cache'],
        s.attributes['http.response.status_code'],
      ]),
    ).toEqual([['POST /graphql', SpanKind.SERVER, 'hit', 200]]);
  });

  it('a read the per-ICCID budget refuses says so on its resolver span, with the wait', async () => {
    const exporter = new InMemorySpanExporter();
    h = await startHarness({
      env: {
        UPSTREAM_USAGE_LIMIT_PER_MINUTE: '1',
        CACHE_USAGE_TTL_SECONDS: '0',
        CACHE_STALE_WHILE_REVALIDATE_SECONDS: '0',
      },
      spanExporter: exporter,
    });
    const [iccid] = h.sandbox.control.iccids({ status: 'ACTIVE' });
    const query = `{ sim(iccid: "${iccid}") { usage { stale } } }`;
    expect((await h.gql(query)).data.sim.usage.stale).toBe(false);
    exporter.reset();
    expect((await h.gql(query)).data.sim.usage.stale).toBe(true);
    const usage = byName(exporter.getFinishedSpans(), 'Sim.usage')[0]!;
    expect(usage.attributes['gateway.cache.outcome']).toBe('budget');
    expect(usage.attributes['gateway.cache.budget_wait_ms']).toBeGreaterThan(0);
    expect(usage.attributes['gateway.cache.budget_wait_ms']).toBeLessThanOrEqual(60_000);
    expect(byName(exporter.getFinishedSpans(), 'Query.sim')[0]!.attributes['gateway.cache.outcome']).toBe('hit');
  });

  it('a failing upstream call is an error span with its status and outcome, and the field error code on its resolver', async () => {
    const exporter = new InMemorySpanExporter();
    h = await startHarness({ env: { UPSTREAM_GET_RETRIES: '1' }, spanExporter: exporter });
    const [iccid] = h.sandbox.control.iccids({ status: 'ACTIVE' });
    h.sandbox.control.addFault({ endpoint: 'usage', errorStatus: 503 });
    const result = await h.gql(`{ sim(iccid: "${iccid}") { usage { stale } } }`);
    expect(result.errors?.[0]?.extensions?.code).toBe('UPSTREAM_UNAVAILABLE');
    const spans = exporter.getFinishedSpans();
    const call = byName(spans, 'upstream usage')[0]!;
    expect(call.attributes).toMatchObject({
      'http.response.status_code': 503,
      'upstream.attempts': 2,
      'upstream.outcome': 'UpstreamUnavailableError',
    });
    expect(call.status.code).toBe(2 /* ERROR */);
    expect(byName(spans, 'Sim.usage')[0]!.attributes['graphql.error.code']).toBe('UPSTREAM_UNAVAILABLE');
  });

  it('off unless configured: no tracing, no traceparent sent upstream', async () => {
    h = await startHarness();
    expect(h.gateway.tracing).toBeUndefined();
    const [iccid] = h.sandbox.control.iccids({ status: 'ACTIVE' });
    await h.gql(`{ sim(iccid: "${iccid}") { usage { stale } } }`, undefined, {
      traceparent: `00-${INCOMING_TRACE}-${INCOMING_SPAN}-01`,
    });
    const calls = h.sandbox.control.calls();
    expect(calls.length).toBeGreaterThan(0);
    expect(calls.every((c) => c.traceparent === undefined)).toBe(true);
  });

  it('OTEL_EXPORTER_OTLP_ENDPOINT set → spans are exported over OTLP/HTTP to {endpoint}/v1/traces (flushed at close)', async () => {
    const received: { path: string; body: string; headers: Record<string, unknown> }[] = [];
    const collector = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ path: req.url ?? '', body: Buffer.concat(chunks).toString('utf8'), headers: req.headers });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    try {
      const endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
      h = await startHarness({
        env: {
          OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
          OTEL_EXPORTER_OTLP_HEADERS: 'x-collector-key=abc%20def',
          OTEL_SERVICE_NAME: 'gw-test',
        },
      });
      expect(h.gateway.tracing).toBeDefined();
      await h.gql('query Bal { balance { available { amount } } }');
      await h.close();
      h = undefined;
      expect(received.length).toBeGreaterThan(0);
      expect(received[0]!.path).toBe('/v1/traces');
      expect(received[0]!.headers['x-collector-key']).toBe('abc def');
      const all = received.map((r) => r.body).join('');
      expect(all).toContain('query Bal');
      expect(all).toContain('upstream balance');
      expect(all).toContain('gw-test');
    } finally {
      await new Promise((resolve) => collector.close(resolve));
    }
  });
});
