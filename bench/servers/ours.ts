/**
 * Our gateway as a benchmark server: the real composition root, configured only from the environment
 * (`loadConfig(process.env)`), so every new env switch of the gateway (JIT, response cache, …) works here unchanged.
 * The runner sets UPSTREAM_URL / UPSTREAM_CLIENT_ID / UPSTREAM_CLIENT_SECRET, PORT=0, LOG_LEVEL, GRAPHIQL=false plus
 * the variant's env map. Run by the runner as `node --expose-gc --import ./servers/gc-hook.mjs --import tsx servers/ours.ts` (cwd bench/).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { loadConfig } from '../../src/config.ts';
import { createGateway } from '../../src/gateway.ts';
import { announce, exitOnSignals } from './common.ts';

const config = loadConfig(process.env);
const gateway = createGateway({ config });

type Listener = (req: IncomingMessage, res: ServerResponse) => void;
// The same node:http handler src/index.ts serves (the fast path in front of Yoga) when the gateway has one; else Yoga.
const httpHandler = (await import('../../src/http-handler.ts').catch(() => null)) as { createHttpHandler?: (g: typeof gateway) => Listener } | null;
const listener: Listener = httpHandler?.createHttpHandler ? httpHandler.createHttpHandler(gateway) : (gateway.yoga as unknown as Listener);

const server = createServer(listener);
server.keepAliveTimeout = 60_000;
server.listen(config.port, config.host, () => announce(server));
exitOnSignals(async () => {
  server.close();
  server.closeAllConnections();
  await gateway.close();
});
