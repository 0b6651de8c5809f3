/**
 * The few behaviours where the socket itself matters (timeouts, resets, refused connections, the connection cap) run
 * against a real node:http server on 127.0.0.1 with the client's own Pool — MockAgent cannot time out or reset.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createUpstreamClient,
  type UpstreamClient,
  type UpstreamClientOptions,
  UpstreamUnavailableError,
} from '../../src/upstream/index.ts';
import { airalo, fixture, tokenBody } from './helpers.ts';

type Route = (req: IncomingMessage, res: ServerResponse) => void;

interface Upstream {
  server: Server;
  baseUrl: string;
  hits: string[];
  route(method: string, path: string, handler: Route): void;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function startUpstream(): Promise<Upstream> {
  const routes = new Map<string, Route>();
  const hits: string[] = [];
  const server = createServer((req, res) => {
    const key = `${req.method} ${req.url}`;
    hits.push(key);
    const handler = routes.get(key);
    // Read the body fully before answering, like the real upstream.
    req.resume();
    req.on('end', () => {
      if (handler) handler(req, res);
      else
        res
          .writeHead(404, { 'content-type': 'application/json' })
          .end('{"data":[],"meta":{"message":"messages.resource_not_found"}}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const upstream: Upstream = {
    server,
    baseUrl: `http://127.0.0.1:${port}/v2`,
    hits,
    route: (method, path, handler) => routes.set(`${method} ${path}`, handler),
  };
  upstream.route('POST', '/v2/token', (_, res) =>
    res.writeHead(200, { 'content-type': 'application/json' }).end(tokenBody()),
  );
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return upstream;
}

function clientFor(upstream: Upstream, options: Partial<UpstreamClientOptions> = {}): UpstreamClient {
  const client = createUpstreamClient({
    baseUrl: upstream.baseUrl,
    flavour: 'airalo',
    clientId: 'id',
    clientSecret: 'secret',
    timeouts: { connectMs: 500, headersMs: 150, bodyMs: 150 },
    ...options,
  });
  cleanups.push(() => client.close());
  return client;
}

const json =
  (body: string): Route =>
  (_, res) =>
    res.writeHead(200, { 'content-type': 'application/json' }).end(body);
const never: Route = () => {
  /* keep the socket open, answer nothing */
};
const BALANCE = JSON.stringify({
  data: { balances: { name: 'balance', availableBalance: { amount: 1, currency: 'USD' } } },
  meta: { message: 'success' },
});
const submit = (client: UpstreamClient) =>
  client.submitTopup({ iccid: '89340000000000872', packageId: 'bonbon-mobile-30days-3gb-topup', description: 'gw-1' });

describe('timeouts and transport failures (real sockets)', () => {
  it('a GET whose headers never come → UpstreamUnavailableError after headersMs, not retried', async () => {
    const upstream = await startUpstream();
    upstream.route('GET', '/v2/balance', never);
    const client = clientFor(upstream);
    const error = await client.getBalance().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamUnavailableError);
    expect(error).toMatchObject({ endpoint: 'balance', status: null, ambiguous: false });
    expect((error as Error).message).toContain('UND_ERR_HEADERS_TIMEOUT');
    expect(upstream.hits.filter((h) => h === 'GET /v2/balance')).toHaveLength(1);
  });

  it('a body that stalls → UpstreamUnavailableError after bodyMs', async () => {
    const upstream = await startUpstream();
    upstream.route('GET', '/v2/balance', (_, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(BALANCE.length) });
      res.write(BALANCE.slice(0, 10));
    });
    const client = clientFor(upstream);
    await expect(client.getBalance()).rejects.toMatchObject({
      name: 'UpstreamUnavailableError',
      ambiguous: false,
      message: expect.stringContaining('UND_ERR_BODY_TIMEOUT'),
    });
  });

  it('a submit that times out after being sent is ambiguous and sent exactly once', async () => {
    const upstream = await startUpstream();
    upstream.route('POST', '/v2/orders/topups', never);
    const client = clientFor(upstream);
    await expect(submit(client)).rejects.toMatchObject({
      name: 'UpstreamUnavailableError',
      endpoint: 'submitTopup',
      ambiguous: true,
    });
    expect(upstream.hits.filter((h) => h === 'POST /v2/orders/topups')).toHaveLength(1);
  });

  it('a submit whose connection is reset after sending is ambiguous and sent exactly once', async () => {
    const upstream = await startUpstream();
    upstream.route('POST', '/v2/orders/topups', (req) => req.socket.destroy());
    const client = clientFor(upstream);
    await expect(submit(client)).rejects.toMatchObject({ name: 'UpstreamUnavailableError', ambiguous: true });
    expect(upstream.hits.filter((h) => h === 'POST /v2/orders/topups')).toHaveLength(1);
  });

  it('a submit that cannot connect is not ambiguous', async () => {
    const upstream = await startUpstream();
    upstream.route('GET', '/v2/balance', json(BALANCE));
    const client = clientFor(upstream);
    await client.getBalance(); // token cached
    await new Promise<void>((resolve) => {
      upstream.server.closeAllConnections();
      upstream.server.close(() => resolve());
    });
    // Let the Pool see its keep-alive socket close: a POST written on a socket the server is closing is ambiguous.
    await new Promise((resolve) => setTimeout(resolve, 50));
    await expect(submit(client)).rejects.toMatchObject({
      name: 'UpstreamUnavailableError',
      ambiguous: false,
      message: expect.stringContaining('ECONNREFUSED'),
    });
  });

  it('a real 200 with the documented submit body parses (end-to-end through the Pool)', async () => {
    const upstream = await startUpstream();
    upstream.route('POST', '/v2/orders/topups', json(fixture(airalo, 'submitTopup.200')));
    const client = clientFor(upstream);
    await expect(submit(client)).resolves.toMatchObject({ id: '174', code: '20230207-000174', price: '10.00' });
  });
});

describe('concurrency cap', () => {
  it('never opens more than `connections` sockets to the upstream', async () => {
    const upstream = await startUpstream();
    let open = 0;
    let peak = 0;
    upstream.server.on('connection', (socket) => {
      open += 1;
      peak = Math.max(peak, open);
      socket.on('close', () => (open -= 1));
    });
    upstream.route('GET', '/v2/balance', (_, res) => setTimeout(() => json(BALANCE)(_, res), 20));
    const client = clientFor(upstream, { connections: 2, timeouts: { headersMs: 5_000 } });
    await Promise.all(Array.from({ length: 10 }, () => client.getBalance()));
    expect(peak).toBeLessThanOrEqual(2);
    expect(upstream.hits.filter((h) => h === 'GET /v2/balance')).toHaveLength(10);
  });
});
