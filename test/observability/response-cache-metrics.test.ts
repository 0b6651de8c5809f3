/** `/metrics` counts what the HTTP fast path does before Yoga: response-cache hits, misses, stores, invalidations, evictions, bytes, entries. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpHandler } from '../../src/app/http-handler.ts';
import { createMetricsHandler } from '../../src/app/metrics.ts';
import { type Harness, startHarness } from '../support/harness.ts';

let h: Harness;
let server: Server;
let url: string;
let metricsServer: Server;
let metricsUrl: string;

async function start(env: Record<string, string> = {}) {
  h = await startHarness({ env });
  server = createServer(createHttpHandler(h.gateway));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // Metrics have their own listener (METRICS_PORT), as the process entry serves them.
  metricsServer = createServer(createMetricsHandler(h.gateway.metrics));
  await new Promise<void>((resolve) => metricsServer.listen(0, '127.0.0.1', resolve));
  metricsUrl = `http://127.0.0.1:${(metricsServer.address() as AddressInfo).port}`;
}

afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve));
  await new Promise((resolve) => metricsServer?.close(resolve));
  await h?.close();
});

async function post(query: string) {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query }),
  });
  await response.text();
  return response.headers.get('x-response-cache');
}

/** Scrapes /metrics over the socket and returns the response-cache series as `name{labels}` → value. */
async function scrape(): Promise<Record<string, number>> {
  const text = await (await fetch(`${metricsUrl}/metrics`)).text();
  const series: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const match = /^(gateway_response_cache_\w+(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (match) series[match[1]!] = Number(match[2]);
  }
  return series;
}

const usageOf = (iccid: string) => `{ sim(iccid: "${iccid}") { usage { remainingMb } } }`;

describe('response-cache metrics', () => {
  it('count misses, stores, hits, invalidations, and show entries and bytes', async () => {
    await start();
    const [iccid] = h.sandbox.control.iccids({ status: 'ACTIVE' });
    expect(await scrape()).toMatchObject({
      'gateway_response_cache_events_total{event="hit"}': 0,
      'gateway_response_cache_events_total{event="miss"}': 0,
      gateway_response_cache_entries: 0,
      gateway_response_cache_bytes: 0,
    });

    expect(await post(usageOf(iccid!))).toBeNull(); // miss, built from fresh upstream reads: not stored
    expect(await post(usageOf(iccid!))).toBeNull(); // miss, stored
    expect(await post(usageOf(iccid!))).toBe('hit');
    expect(await post(usageOf(iccid!))).toBe('hit');
    const warm = await scrape();
    expect(warm).toMatchObject({
      'gateway_response_cache_events_total{event="miss"}': 2,
      'gateway_response_cache_events_total{event="store"}': 1,
      'gateway_response_cache_events_total{event="hit"}': 2,
      'gateway_response_cache_events_total{event="invalidation"}': 0,
      gateway_response_cache_entries: 1,
    });
    expect(warm.gateway_response_cache_bytes).toBeGreaterThan(100);

    h.gateway.services.caches.usage.invalidate(iccid!); // a resource the stored response was built from changes
    expect(await scrape()).toMatchObject({
      'gateway_response_cache_events_total{event="invalidation"}': 1,
      gateway_response_cache_entries: 0,
      gateway_response_cache_bytes: 0,
    });
  });

  it('count evictions when the size bound pushes a response out', async () => {
    await start({ RESPONSE_CACHE_MAX_BYTES: '800' }); // one ~515-byte response fits, two do not
    const [a, b] = h.sandbox.control.iccids({ status: 'ACTIVE' });
    for (const iccid of [a!, a!, b!, b!]) await post(usageOf(iccid)); // a stored, then b stored: a evicted
    expect(await scrape()).toMatchObject({
      'gateway_response_cache_events_total{event="store"}': 2,
      'gateway_response_cache_events_total{event="eviction"}': 1,
      gateway_response_cache_entries: 1,
    });
    expect(await post(usageOf(b!))).toBe('hit');
    expect(await post(usageOf(a!))).toBeNull(); // a was the one evicted
  });
});
