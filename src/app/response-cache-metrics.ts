/**
 * Prometheus collectors for the response cache (src/graphql/response-cache.ts), whose hits are answered by the HTTP
 * fast path before Yoga and its metrics plugin: read from the cache's own counters at scrape time, nothing per request.
 * See README.md, "HTTP endpoints and authentication".
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { ResponseCache } from '../graphql/response-cache.ts';

const EVENTS = {
  hit: 'hits',
  miss: 'misses',
  store: 'stores',
  invalidation: 'invalidations',
  eviction: 'evictions',
} as const;

export function registerResponseCacheMetrics(registry: Registry, cache: ResponseCache): void {
  new Counter({
    name: 'gateway_response_cache_events_total',
    help: 'Response cache: hits and misses of the HTTP fast path, responses stored, entries dropped because a resource they were built from changed (invalidation) or for space (eviction)',
    labelNames: ['event'],
    registers: [registry],
    collect() {
      // The cache's counters are the source of truth (monotonic); mirror them.
      this.reset();
      for (const [event, stat] of Object.entries(EVENTS)) this.inc({ event }, cache.stats[stat]);
    },
  });
  new Gauge({
    name: 'gateway_response_cache_bytes',
    help: 'Bytes held by the response cache (counted against RESPONSE_CACHE_MAX_BYTES)',
    registers: [registry],
    collect() {
      this.set(cache.bytes);
    },
  });
  new Gauge({
    name: 'gateway_response_cache_entries',
    help: 'Responses held by the response cache',
    registers: [registry],
    collect() {
      this.set(cache.size);
    },
  });
}
