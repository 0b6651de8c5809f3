/**
 * Our gateway as a benchmark server, exactly as `npm start` runs it: the compiled `dist/` (built by the runner) on plain
 * Node with the node flags of the root package.json (`config.nodeFlags`, passed by the runner), the real composition
 * root configured only from the environment, behind the same node:http handler `src/app/index.ts` serves.
 * The runner sets UPSTREAM_URL / UPSTREAM_CLIENT_ID / UPSTREAM_CLIENT_SECRET, AUTH_API_KEYS, PORT=0, LOG_LEVEL,
 * GRAPHIQL=false plus the variant's env map.
 */
import { createServer } from 'node:http';
import { createGateway } from '../../dist/app/gateway.js';
import { createHttpHandler } from '../../dist/app/http-handler.js';
import { loadConfig } from '../../dist/platform/config.js';

const config = loadConfig(process.env);
const gateway = createGateway({ config });
// As src/app/index.ts: with REDIS_URL, listen once Redis answers.
await gateway.ready();
const server = createServer(createHttpHandler(gateway));
server.keepAliveTimeout = 60_000;
server.listen(config.port, config.host, () => process.stdout.write(`BENCH_LISTENING ${server.address().port}\n`));
const stop = () => {
  server.close();
  server.closeAllConnections();
  void gateway.close().finally(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
