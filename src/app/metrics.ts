/**
 * Prometheus metrics on a per-gateway registry (never the global one, so tests and several gateways in one
 * process do not collide): request durations, upstream calls by endpoint and status, 429s, cache
 * hits/misses/stale serves per resource, the upstream circuit breaker's state and, with `REDIS_URL`, the Redis state
 * (`gateway_redis_up`) and failed Redis commands by kind (`gateway_redis_command_errors_total`).
 *
 * They are served by their own listener (`createMetricsHandler`, on METRICS_PORT), never on the GraphQL port:
 * scrapers hold no partner credentials, and the GraphQL port may face the internet.
 * See README.md, "HTTP endpoints and authentication".
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Plugin } from 'graphql-yoga';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { GatewayCaches } from '../domain/cache/index.ts';
import type { RedisConnections } from '../platform/redis.ts';

export interface GatewayMetrics {
  registry: Registry;
  /** Feed for the upstream client's `onCall` hook. */
  recordUpstreamCall(e: { endpoint: string; status: number; durationMs: number }): void;
  /** Times every request the gateway answers through Yoga. */
  plugin: Plugin;
  /** One answered request in the request-duration histogram (the plugin's record; the edge's direct execution's). */
  observeRequest(method: string, status: number, seconds: number): void;
}

const BREAKER_STATES = { closed: 0, 'half-open': 1, open: 2 } as const;

export function createMetrics(
  caches: GatewayCaches,
  breakerState: () => keyof typeof BREAKER_STATES | undefined,
  /** The shared-state connections when `REDIS_URL` is set: their state and command failures are exported. */
  redis?: RedisConnections,
): GatewayMetrics {
  const registry = new Registry();
  if (redis) registerRedisMetrics(registry, redis);
  const requestDuration = new Histogram({
    name: 'gateway_http_request_duration_seconds',
    help: 'Duration of HTTP requests to the gateway',
    labelNames: ['method', 'status'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const upstreamCalls = new Counter({
    name: 'gateway_upstream_calls_total',
    help: 'Upstream HTTP exchanges by endpoint and status (0 = no answer)',
    labelNames: ['endpoint', 'status'],
    registers: [registry],
  });
  const upstreamDuration = new Histogram({
    name: 'gateway_upstream_call_duration_seconds',
    help: 'Duration of upstream HTTP exchanges',
    labelNames: ['endpoint'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const rateLimited = new Counter({
    name: 'gateway_upstream_rate_limited_total',
    help: 'Upstream 429 answers by endpoint',
    labelNames: ['endpoint'],
    registers: [registry],
  });
  const cacheEvents = new Gauge({
    name: 'gateway_cache_events',
    help: 'Cumulative cache events per resource (hit, miss, stale serve, upstream call)',
    labelNames: ['resource', 'event'],
    registers: [registry],
    collect() {
      for (const cache of Object.values(caches)) {
        const { hits, misses, staleServes, upstreamCalls: calls } = cache.stats;
        this.set({ resource: cache.name, event: 'hit' }, hits);
        this.set({ resource: cache.name, event: 'miss' }, misses);
        this.set({ resource: cache.name, event: 'stale' }, staleServes);
        this.set({ resource: cache.name, event: 'upstream_call' }, calls);
      }
    },
  });
  void cacheEvents;
  new Gauge({
    name: 'gateway_upstream_breaker_state',
    help: 'Upstream circuit breaker: 0 closed, 1 half-open, 2 open',
    registers: [registry],
    collect() {
      const state = breakerState();
      if (state) this.set(BREAKER_STATES[state]);
    },
  });

  /** Bounded: endpoints × the statuses the upstream answers with. */
  const upstreamSeries = new Map<string, { calls: { inc(): void }; duration: { observe(value: number): void } }>();
  const started = new WeakMap<Request, number>();
  const observeRequest = (method: string, status: number, seconds: number) =>
    requestDuration.observe({ method, status: String(status) }, seconds);
  return {
    registry,
    observeRequest,
    recordUpstreamCall({ endpoint, status, durationMs }) {
      // One bound child per label set, looked up by a short key: prom-client would hash the label object per call.
      const key = `${endpoint} ${status}`;
      let series = upstreamSeries.get(key);
      if (!series) {
        series = {
          calls: upstreamCalls.labels({ endpoint, status: String(status) }),
          duration: upstreamDuration.labels({ endpoint }),
        };
        upstreamSeries.set(key, series);
      }
      series.calls.inc();
      series.duration.observe(durationMs / 1000);
      if (status === 429) rateLimited.inc({ endpoint });
    },
    plugin: {
      onRequest({ request }) {
        started.set(request, performance.now());
      },
      onResponse({ request, response }) {
        const t0 = started.get(request);
        if (t0 !== undefined) observeRequest(request.method, response.status, (performance.now() - t0) / 1000);
      },
    },
  };
}

/**
 * Why a Redis command failed: `timeout` (no answer within REDIS_COMMAND_TIMEOUT_MS), `unavailable` (not connected:
 * refused at once, nothing queued) or `error` (Redis answered with an error).
 */
export function redisFailureKind(error: unknown): 'timeout' | 'unavailable' | 'error' {
  const message = error instanceof Error ? error.message : String(error);
  if (/timed out/i.test(message)) return 'timeout';
  if (/isn't writeable|connection is closed|connection.*(closed|lost|refused)|ECONNREFUSED|ECONNRESET/i.test(message))
    return 'unavailable';
  return 'error';
}

function registerRedisMetrics(registry: Registry, redis: RedisConnections): void {
  new Gauge({
    name: 'gateway_redis_up',
    help: 'Redis (REDIS_URL) usable by this replica: 1 up, 0 connecting or down',
    registers: [registry],
    collect() {
      this.set(redis.state === 'up' ? 1 : 0);
    },
  });
  const failures = new Counter({
    name: 'gateway_redis_command_errors_total',
    help: 'Redis commands that failed, by kind: timeout, unavailable (not connected), error (an error reply)',
    labelNames: ['kind'],
    registers: [registry],
  });
  for (const kind of ['timeout', 'unavailable', 'error']) failures.inc({ kind }, 0);
  // Every command of this connection (plain, pipelined, Lua via defineCommand) goes through `sendCommand`: observing
  // its promise counts them all without touching the callers. NOSCRIPT is ioredis' own EVALSHA → EVAL fallback.
  const connection = redis.command;
  const send = connection.sendCommand.bind(connection);
  connection.sendCommand = ((...args: Parameters<typeof send>) => {
    const result = send(...args);
    (result as Promise<unknown>).catch((error: unknown) => {
      if (error instanceof Error && error.message.startsWith('NOSCRIPT')) return;
      failures.inc({ kind: redisFailureKind(error) });
    });
    return result;
  }) as typeof connection.sendCommand;
}

/** The metrics listener's request handler: `GET /metrics` (and HEAD), 404 for any other path, 405 for other methods. */
export function createMetricsHandler(metrics: GatewayMetrics): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: metrics are served at /metrics\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n');
      return;
    }
    metrics.registry.metrics().then(
      (text) => {
        res.writeHead(200, { 'content-type': metrics.registry.contentType });
        res.end(req.method === 'HEAD' ? undefined : text);
      },
      () => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end('metrics collection failed\n');
      },
    );
  };
}
