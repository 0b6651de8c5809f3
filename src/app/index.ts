/**
 * Process entry: config → (the built-in sandbox, imported only when no upstream is configured) → gateway → listen,
 * plus the metrics listener → graceful shutdown: on SIGTERM/SIGINT stop accepting, let in-flight requests and
 * purchases finish within the derived drain, then exit 0 (a second signal exits at once). Bad configuration exits 1
 * with every problem listed. See README.md, "Quick start" and "Purchasing top-ups safely" (shutdown drain).
 */
import { createServer, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { ConfigError, type GatewayConfig, loadConfig } from '../platform/config.ts';
import { createLogger, resolveLogFormat } from '../platform/logger.ts';
import { redactRedisUrl } from '../platform/redis.ts';
import { describeLimits } from '../platform/upstream-limits.ts';
import { flavourBasePaths } from '../upstream/index.ts';
import { createGateway, type Gateway } from './gateway.ts';
import { createHttpHandler } from './http-handler.ts';
import { createMetricsHandler } from './metrics.ts';

async function main(): Promise<void> {
  let config: GatewayConfig;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
  const logger = createLogger(config.logLevel, undefined, {
    format: resolveLogFormat(config.logFormat, process.stdout.isTTY === true),
    traceIds: config.tracing.enabled,
  });

  let upstream = config.upstream;
  let closeSandbox: (() => Promise<void>) | undefined;
  if (!upstream) {
    // Loaded only when it is used: a gateway in front of a real upstream never loads the simulator's code.
    const { createSandbox, SANDBOX_CREDENTIALS } = await import('../sandbox/index.ts');
    const sandbox = await createSandbox({
      seed: config.sandbox.seed,
      simCount: config.sandbox.simCount,
      credentials: SANDBOX_CREDENTIALS,
    });
    closeSandbox = () => sandbox.close();
    // The sandbox serves both flavours; the gateway talks to the one UPSTREAM_FLAVOR names (its limits' defaults too).
    const flavour = config.upstreamFlavour;
    upstream = { url: `${sandbox.url}${flavourBasePaths[flavour]}`, flavour, ...SANDBOX_CREDENTIALS };
    logger.warn(
      { sandboxUrl: sandbox.url, sims: config.sandbox.simCount },
      'UPSTREAM_URL is not set: serving the built-in sandbox (simulated upstream, no real money)',
    );
  }

  const gateway = createGateway({ config, upstream, logger });
  if (gateway.services.authenticator.open) {
    logger.warn(
      'NO AUTHENTICATION: every caller has full partner access. Allowed only with the built-in sandbox; set AUTH_API_KEYS / AUTH_JWT_SECRET / AUTH_JWKS_URL.',
    );
  }
  startMetricsListener(config, gateway, logger);
  // With REDIS_URL: take traffic once Redis answers (bounded), not while every decision would fall back to the local share.
  if (!(await gateway.ready())) logger.warn('redis not reachable at start: serving degraded until it is (see /ready)');
  const handler = createHttpHandler(gateway);
  let stopping = false;
  /** Responses not yet finished: at shutdown they are told to close their connection (keep-alive must not hold the drain). */
  const answering = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    if (stopping) res.setHeader('connection', 'close');
    else {
      answering.add(res);
      res.once('close', () => answering.delete(res));
    }
    handler(req, res);
  });
  server.once('error', (error: NodeJS.ErrnoException) => {
    // The usual first-run failures: one actionable line, no stack trace.
    if (error.code === 'EADDRINUSE' || error.code === 'EACCES') {
      const why = error.code === 'EADDRINUSE' ? 'is already in use' : 'needs privileges this process does not have';
      console.error(
        `Cannot listen on ${config.host}:${config.port}: port ${config.port} ${why}. Stop the other process or set PORT to a free port (e.g. PORT=${config.port === 4000 ? 4001 : 4000} npm start).`,
      );
      process.exit(1);
    }
    throw error;
  });
  server.listen(config.port, config.host, () => {
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    const url = `http://${config.host}:${port}/graphql`;
    const summary = startupSummary(config, upstream, closeSandbox !== undefined);
    logger.info(
      { url, ...summary },
      `gateway listening on ${url} — GraphiQL ${summary.graphiql}; upstream: ${summary.upstream}; ` +
        `limits: ${summary.limits}; auth: ${summary.auth}; ` +
        `cache: ${summary.cache}; metrics: ${summary.metrics}`,
    );
    const drainSeconds = Math.ceil(config.shutdown.drainMs / 1000);
    logger.info(
      { drainSeconds },
      `graceful shutdown waits up to ${drainSeconds} s for purchases under way: set the orchestrator's termination grace period to at least that`,
    );
  });

  const shutdown = (signal: string) => {
    if (stopping) {
      // A second signal: the operator does not want to wait for the drain.
      logger.warn({ signal }, 'second signal: exiting without waiting for in-flight requests');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down: draining in-flight requests');
    for (const res of answering) if (!res.headersSent) res.setHeader('connection', 'close');
    // Subscription streams never finish on their own: end them (clients get `complete`) so the drain can.
    gateway.alerts.subscriptions.close();
    // Long enough for the worst-case purchase under way (src/platform/config.ts purchaseTimings); then in-flight work is cut.
    const force = setTimeout(() => {
      logger.error({ drainSeconds: config.shutdown.drainMs / 1000 }, 'drain timeout: exiting with work in flight');
      process.exit(1);
    }, config.shutdown.drainMs).unref();
    // Stop accepting, let in-flight requests (and purchases) finish, then release the upstream.
    server.close(async () => {
      await gateway.close();
      await closeSandbox?.();
      clearTimeout(force);
      logger.info('stopped');
      process.exit(0);
    });
    server.closeIdleConnections();
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  // Trusted documents: SIGHUP re-reads the manifests; a set that does not load is refused and the current one kept.
  const persisted = gateway.persistedDocuments;
  if (persisted) {
    logger.info(
      { persistedDocuments: persisted.size, only: config.persistedDocuments?.only },
      'persisted documents loaded',
    );
    process.on('SIGHUP', () => {
      try {
        logger.info(persisted.reload(), 'persisted documents reloaded');
      } catch (error) {
        logger.error(
          { err: { message: (error as Error).message } },
          'persisted documents reload refused: kept the current set',
        );
      }
    });
  }
}

/**
 * Prometheus metrics on their own port (METRICS_PORT, METRICS_HOST), so the GraphQL port never serves them.
 * It never holds the process open, and failing to bind it is logged, not fatal: the gateway serves without it.
 */
function startMetricsListener(config: GatewayConfig, gateway: Gateway, logger: Logger): void {
  if (!config.metrics) return;
  const { port, host } = config.metrics;
  const server = createServer(createMetricsHandler(gateway.metrics));
  server.on('error', (error: NodeJS.ErrnoException) =>
    logger.error(
      { err: { code: error.code, message: error.message }, host, port },
      'metrics listener failed: serving without /metrics',
    ),
  );
  server.listen(port, host, () => {
    const address = server.address();
    const bound = typeof address === 'object' && address ? address.port : port;
    logger.info(
      { metricsUrl: `http://${host.includes(':') ? `[${host}]` : host}:${bound}/metrics` },
      'metrics listening',
    );
  });
  server.unref();
}

/** What this process actually serves, for the start log line: no secret, no credentials in URLs. */
function startupSummary(config: GatewayConfig, upstream: NonNullable<GatewayConfig['upstream']>, sandbox: boolean) {
  const url = new URL(upstream.url);
  url.username = '';
  url.password = '';
  url.search = '';
  const auth = [
    config.auth.apiKeys.length ? `api keys (${config.auth.apiKeys.length})` : '',
    config.auth.jwt?.secret ? 'jwt secret' : '',
    config.auth.jwt?.jwksUrl ? `jwks (${new URL(config.auth.jwt.jwksUrl).host})` : '',
  ].filter(Boolean);
  return {
    graphiql: config.graphiql ? 'on' : 'off',
    upstream: `${sandbox ? 'built-in sandbox' : 'partner API'} (${upstream.flavour}, ${url.href.replace(/\/$/, '')})`,
    // Whose limit defaults apply, what was overridden, and the usage limits (README "Limits").
    limits: describeLimits(config.upstreamFlavour, config.upstreamLimits),
    auth: auth.length ? auth.join(' + ') : 'none',
    // Where shared state lives: this process only, or the fleet's Redis (README "Running several replicas").
    cache: config.redis
      ? `redis (${redisForLog(config.redis.url)}, prefix ${config.redis.keyPrefix})`
      : 'in-memory (one replica only)',
    metrics: config.metrics ? `on at http://${config.metrics.host}:${config.metrics.port}/metrics` : 'off',
  };
}

/** The Redis URL without its password or query (ioredis reads options, a password too, from the query string). */
function redisForLog(url: string): string {
  const redacted = new URL(redactRedisUrl(url));
  redacted.search = '';
  return redacted.href.replace(/\/$/, '');
}

void main();
