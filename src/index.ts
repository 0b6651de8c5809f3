/**
 * Process entry: config → (sandbox when no upstream is configured) → gateway → listen → graceful shutdown.
 */
import { createServer, type ServerResponse } from 'node:http';
import { ConfigError, loadConfig } from './config.ts';
import { createGateway } from './gateway.ts';
import { createHttpHandler } from './http-handler.ts';
import { createLogger } from './logger.ts';
import { createSandbox } from './sandbox/index.ts';

const SANDBOX_CREDENTIALS = { clientId: 'sandbox-client-id', clientSecret: 'sandbox-client-secret' };

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
  const logger = createLogger(config.logLevel, undefined, { traceIds: config.tracing.enabled });

  let upstream = config.upstream;
  let closeSandbox: (() => Promise<void>) | undefined;
  if (!upstream) {
    const sandbox = await createSandbox({ seed: config.sandbox.seed, simCount: config.sandbox.simCount, credentials: SANDBOX_CREDENTIALS });
    closeSandbox = () => sandbox.close();
    upstream = { url: `${sandbox.url}/customer/v2`, flavour: 'pressone', ...SANDBOX_CREDENTIALS };
    logger.warn({ sandboxUrl: sandbox.url, sims: config.sandbox.simCount }, 'UPSTREAM_URL is not set: serving the built-in sandbox (simulated upstream, no real money)');
  }

  const gateway = createGateway({ config, upstream, logger });
  if (gateway.services.authenticator.open) {
    logger.warn('NO AUTHENTICATION: every caller has full partner access. Allowed only with the built-in sandbox; set AUTH_API_KEYS / AUTH_JWT_SECRET / AUTH_JWKS_URL.');
  }
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
  server.listen(config.port, config.host, () => {
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    logger.info({ url: `http://${config.host}:${port}/graphql`, flavour: upstream.flavour }, 'gateway listening; GraphiQL at /graphql');
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
    const force = setTimeout(() => process.exit(1), 15_000).unref();
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
}

void main();
