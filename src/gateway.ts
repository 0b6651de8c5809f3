/**
 * Composition root: builds every dependency from the typed config and returns the Yoga app.
 * Never listens (tests call `yoga.fetch`); `index.ts` owns the process and the socket.
 */
import { readFileSync } from 'node:fs';
import { useGraphQlJit } from '@envelop/graphql-jit';
import { LRUCache } from 'lru-cache';
import { getOperationAST } from 'graphql';
import { createYoga, isAsyncIterable, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import type { Logger } from 'pino';
import { createAuthenticator } from './auth.ts';
import { BALANCE_KEY, createCaches } from './cache/index.ts';
import { systemClock, type Clock } from './clock.ts';
import type { GatewayConfig } from './config.ts';
import { createContext, type GatewayContext, type GatewayServerContext, type GatewayServices } from './context.ts';
import { createLocalGraphiQL } from './graphiql.ts';
import { createLogger } from './logger.ts';
import { createMetrics, type GatewayMetrics } from './metrics.ts';
import { PurchaseService } from './purchase/index.ts';
import { ResponseCache } from './response-cache.ts';
import { schema } from './schema/index.ts';
import { securityPlugins } from './security.ts';
import { createUpstreamClient, type UpstreamClient } from './upstream/index.ts';

export interface GatewayDeps {
  config: GatewayConfig;
  /** Upstream base URL incl. the flavour path and its credentials; defaults to `config.upstream`. */
  upstream?: { url: string; flavour: 'pressone' | 'airalo'; clientId: string; clientSecret: string };
  clock?: Clock;
  logger?: Logger;
}

export interface Gateway {
  yoga: YogaServerInstance<GatewayServerContext, GatewayContext>;
  services: GatewayServices;
  metrics: GatewayMetrics;
  /** Whole-response cache used by the HTTP fast path (http-handler.ts); undefined when switched off. */
  responseCache: ResponseCache | undefined;
  /** Waits for in-flight purchases, then releases upstream connections. */
  close(): Promise<void>;
}

/** Loaded in GraphiQL on first visit; the README shows the same file. Works against the built-in sandbox. */
export const EXAMPLE_QUERY = readFileSync(new URL('../examples/my-esims.graphql', import.meta.url), 'utf8');

export function createGateway(deps: GatewayDeps): Gateway {
  const { config } = deps;
  const clock = deps.clock ?? systemClock;
  const logger = deps.logger ?? createLogger(config.logLevel);
  const upstream = deps.upstream ?? config.upstream;
  if (!upstream) throw new Error('createGateway needs an upstream (config.upstream or deps.upstream)');

  let metrics: GatewayMetrics | undefined;
  const client: UpstreamClient = createUpstreamClient({
    baseUrl: upstream.url,
    flavour: upstream.flavour,
    clientId: upstream.clientId,
    clientSecret: upstream.clientSecret,
    paths: config.upstreamPaths,
    connections: config.upstreamConnections,
    timeouts: config.timeouts,
    getRetries: config.retries.getRetries,
    retryBudget: { ratio: config.retries.budgetRatio },
    tokenRefreshSeconds: config.tokenRefreshSeconds,
    circuitBreaker: config.breaker,
    onBreakerStateChange: (state) =>
      (state === 'closed' ? logger.info.bind(logger) : logger.warn.bind(logger))({ breaker: state }, `upstream circuit breaker ${state}`),
    logger,
    clock,
    onCall: (event) => metrics?.recordUpstreamCall(event),
  });
  const caches = createCaches(config, client, clock);
  metrics = createMetrics(caches, () => client.breakerState());
  const purchases = new PurchaseService({
    client,
    caches,
    clock,
    logger,
    ttlMs: config.idempotency.ttlHours * 3_600_000,
    maxKeys: config.idempotency.maxKeys,
    reconcileGraceMs: config.idempotency.reconcileGraceSeconds * 1000,
  });
  const authenticator = createAuthenticator(config.auth);
  const responseCache = config.responseCache.enabled
    ? new ResponseCache({ clock, maxBytes: config.responseCache.maxBytes, maxTtlMs: config.responseCache.maxTtlSeconds * 1000 })
    : undefined;
  if (responseCache) {
    // Any change to a cached resource drops the responses built from it (purchases, invalidations, refreshes).
    for (const cache of Object.values(caches)) cache.onChange((key: string) => responseCache.invalidate(cache.name, key));
  }
  const services: GatewayServices = { config, caches, client, purchases, authenticator, logger };

  const graphiql = config.graphiql
    ? createLocalGraphiQL({ endpoint: '/graphql', title: 'eSIM GraphQL gateway', defaultQuery: EXAMPLE_QUERY, headers: { 'x-graphql-csrf': '1' } })
    : undefined;
  const yoga = createYoga<GatewayServerContext, GatewayContext>({
    schema,
    graphqlEndpoint: '/graphql',
    context: ({ request, dependencies }) => createContext(services, request, dependencies ? { dependencies } : {}),
    graphiql: graphiql?.options ?? false,
    renderGraphiQL: graphiql?.render,
    landingPage: false,
    maskedErrors: true,
    batching: { limit: config.queryLimits.maxBatchOperations },
    healthCheckEndpoint: '/health',
    plugins: [
      ...(graphiql ? [graphiql.plugin] : []),
      ...(config.metrics ? [metrics.plugin] : []),
      // Execution cost is per resolved field; compiled queries resolve nested lists several times faster.
      ...(config.graphqlJit ? [useGraphQlJit({}, { cache: new LRUCache({ max: 1_000 }) })] : []),
      useReadiness(services),
      useResponseCacheGuard(),
      ...securityPlugins(config),
    ],
    logging: {
      debug: (...args) => logger.debug({ args }, 'yoga'),
      info: (...args) => logger.info({ args }, 'yoga'),
      warn: (...args) => logger.warn({ args }, 'yoga'),
      error: (...args) =>
        logger.error({ args: args.map((a) => (a instanceof Error ? { name: a.name, message: a.message, stack: a.stack } : a)) }, 'yoga'),
    },
  });

  return {
    yoga,
    services,
    metrics,
    responseCache,
    async close() {
      await purchases.drain();
      await client.close();
    },
  };
}

/** Only error-free results of queries may be response-cached. */
function useResponseCacheGuard(): Plugin<GatewayContext> {
  return {
    onExecute({ args }) {
      const dependencies = args.contextValue.dependencies;
      if (getOperationAST(args.document, args.operationName)?.operation !== 'query') dependencies.refuse();
      return {
        onExecuteDone({ result }) {
          if (isAsyncIterable(result) || result.errors?.length) dependencies.refuse();
        },
      };
    },
  };
}

/** `/ready`: 200 once an upstream token can be obtained and used (balance read, cached), else 503. */
function useReadiness(services: GatewayServices): Plugin {
  return {
    async onRequest({ url, endResponse, fetchAPI }) {
      if (url.pathname !== '/ready') return;
      try {
        await services.caches.balance.get(BALANCE_KEY);
        endResponse(fetchAPI.Response.json({ status: 'ready' }));
      } catch (error) {
        services.logger.warn({ err: { name: (error as Error).name, message: (error as Error).message } }, 'readiness check failed');
        endResponse(fetchAPI.Response.json({ status: 'not ready' }, { status: 503 }));
      }
    },
  };
}
