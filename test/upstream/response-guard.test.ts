/**
 * Issue 10, item 13: the response-size cap and the overall call deadline, on real sockets (the Pool's own timeouts
 * and the kernel's buffering are part of what is measured). Small caps and deadlines keep it fast.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Dispatcher } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/platform/clock.ts';
import { CALL_DEADLINE_QUEUED, createUpstreamDispatcher } from '../../src/upstream/dispatcher.ts';
import {
  createUpstreamClient,
  type UpstreamClient,
  type UpstreamClientOptions,
  UpstreamUnavailableError,
} from '../../src/upstream/index.ts';
import { tokenBody } from './helpers.ts';

type Route = (req: IncomingMessage, res: ServerResponse) => void;

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function startUpstream(routes: Record<string, Route>): Promise<{ baseUrl: string; hits: string[] }> {
  const hits: string[] = [];
  const server: Server = createServer((req, res) => {
    const key = `${req.method} ${req.url}`;
    hits.push(key);
    req.resume();
    req.on('end', () => {
      if (key === 'POST /v2/token') res.writeHead(200, { 'content-type': 'application/json' }).end(tokenBody());
      else routes[key]?.(req, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v2`, hits };
}

function clientFor(baseUrl: string, options: Partial<UpstreamClientOptions> = {}): UpstreamClient {
  const client = createUpstreamClient({
    baseUrl,
    flavour: 'airalo',
    clientId: 'id',
    clientSecret: 'secret',
    timeouts: { connectMs: 500, headersMs: 500, bodyMs: 150 },
    maxResponseBytes: 64 * 1024,
    ...options,
  });
  cleanups.push(() => client.close());
  return client;
}

const MB = 1024 * 1024;
const HUGE = 150 * MB;

/**
 * Streams a 150 MB 200 answer in 64 KiB chunks, waiting for the socket to drain (as a real server does), until the
 * client goes away. `sent` counts the bytes the socket accepted: what reached the kernel, not what the client read.
 */
function hugeBody(meter: { sent: number; done: Promise<void> }, withLength: boolean): Route {
  return (_req, res) => {
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    res.writeHead(200, {
      'content-type': 'application/json',
      ...(withLength ? { 'content-length': String(HUGE) } : {}),
    });
    meter.done = new Promise<void>((resolve) => {
      const pump = () => {
        while (meter.sent < HUGE && !res.destroyed) {
          meter.sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        resolve();
      };
      res.on('close', resolve);
      pump();
    });
  };
}

/** A 200 whose body drips one byte every 40 ms, forever: the idle body timeout (150 ms) never fires. */
const trickle: Route = (_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.write('{');
  const timer = setInterval(() => (res.destroyed ? clearInterval(timer) : res.write(' ')), 40);
  res.on('close', () => clearInterval(timer));
};

const submit = (client: UpstreamClient) =>
  client.submitTopup({ iccid: '89340000000000872', packageId: 'bonbon-mobile-30days-3gb-topup', description: 'gw-1' });

describe('response-size cap (UPSTREAM_MAX_RESPONSE_BYTES)', () => {
  it('a 150 MB answer with Content-Length is refused before its body is read; the server gets to send a few MB at most', async () => {
    const meter = { sent: 0, done: Promise.resolve() };
    const upstream = await startUpstream({ 'GET /v2/balance': hugeBody(meter, true) });
    const client = clientFor(upstream.baseUrl);
    const error = await client.getBalance().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamUnavailableError);
    expect(error).toMatchObject({ endpoint: 'balance', ambiguous: false });
    expect((error as UpstreamUnavailableError).detail).toMatch(
      /^UPSTREAM_RESPONSE_TOO_LARGE: HTTP 200 with content-length 157286400 > 65536 bytes, refused unread$/,
    );
    await meter.done;
    // What the socket accepted before the client hung up: kernel buffers, not the 150 MB.
    expect(meter.sent).toBeLessThan(16 * MB);
    console.info(
      `[measure] content-length 150 MB, cap 64 KiB: server sent ${(meter.sent / MB).toFixed(2)} MB before the client hung up`,
    );
  });

  it('a 150 MB chunked answer is aborted once the cap is crossed', async () => {
    const meter = { sent: 0, done: Promise.resolve() };
    const upstream = await startUpstream({ 'GET /v2/balance': hugeBody(meter, false) });
    const client = clientFor(upstream.baseUrl);
    const heapBefore = process.memoryUsage().heapUsed;
    const error = await client.getBalance().catch((e: unknown) => e);
    const heapGrowth = process.memoryUsage().heapUsed - heapBefore;
    expect(error).toBeInstanceOf(UpstreamUnavailableError);
    const detail = (error as UpstreamUnavailableError).detail;
    expect(detail).toMatch(/^UPSTREAM_RESPONSE_TOO_LARGE: over 65536 bytes \(\d+ read\), aborted$/);
    // Read at most the cap plus the chunk that crossed it.
    expect(Number(/\((\d+) read\)/.exec(detail)![1])).toBeLessThanOrEqual(65_536 + 64 * 1024);
    await meter.done;
    expect(meter.sent).toBeLessThan(16 * MB);
    expect(heapGrowth).toBeLessThan(32 * MB);
    console.info(
      `[measure] chunked 150 MB, cap 64 KiB: server sent ${(meter.sent / MB).toFixed(2)} MB, heap grew ${(heapGrowth / MB).toFixed(1)} MB`,
    );
  });

  it('answers within the cap are untouched', async () => {
    const body = JSON.stringify({
      data: { balances: { name: 'balance', availableBalance: { amount: 1, currency: 'USD' } } },
      pad: 'x'.repeat(60_000),
    });
    const upstream = await startUpstream({
      'GET /v2/balance': (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(body),
    });
    await expect(clientFor(upstream.baseUrl).getBalance()).resolves.toEqual({ amount: '1.00', currency: 'USD' });
  });

  it('a submit whose 2xx answer is over the cap is ambiguous (the order was probably placed) and sent once', async () => {
    const meter = { sent: 0, done: Promise.resolve() };
    const upstream = await startUpstream({ 'POST /v2/orders/topups': hugeBody(meter, true) });
    await expect(submit(clientFor(upstream.baseUrl))).rejects.toMatchObject({
      name: 'UpstreamUnavailableError',
      endpoint: 'submitTopup',
      ambiguous: true,
    });
    expect(upstream.hits.filter((h) => h === 'POST /v2/orders/topups')).toHaveLength(1);
  });
});

describe('call deadline (UPSTREAM_CALL_DEADLINE_MS)', () => {
  it('a trickling body, which the idle body timeout never ends, fails at the deadline', async () => {
    const upstream = await startUpstream({ 'GET /v2/balance': trickle });
    const client = clientFor(upstream.baseUrl, { callDeadlineMs: 600 });
    await client.getBalance().catch(() => {}); // token fetched and the connection warm, so only the call is timed
    const started = performance.now();
    const error = await client.getBalance().catch((e: unknown) => e);
    const elapsed = performance.now() - started;
    expect(error).toBeInstanceOf(UpstreamUnavailableError);
    expect(error).toMatchObject({ endpoint: 'balance', ambiguous: false });
    expect((error as UpstreamUnavailableError).detail).toMatch(
      /^UPSTREAM_CALL_DEADLINE: no complete answer within the 600 ms call deadline/,
    );
    expect(elapsed).toBeGreaterThanOrEqual(590);
    expect(elapsed).toBeLessThan(1_500);
  });

  it('a submit whose 2xx body trickles past the deadline is ambiguous and sent once', async () => {
    const upstream = await startUpstream({ 'POST /v2/orders/topups': trickle });
    const client = clientFor(upstream.baseUrl, { callDeadlineMs: 400 });
    await expect(submit(client)).rejects.toMatchObject({
      name: 'UpstreamUnavailableError',
      endpoint: 'submitTopup',
      ambiguous: true,
    });
    expect(upstream.hits.filter((h) => h === 'POST /v2/orders/topups')).toHaveLength(1);
  });
});

/** Holds every request as if all connections were busy, until `release()` hands it a socket. */
class QueueingDispatcher extends Dispatcher {
  readonly queued: Array<{ handler: Dispatcher.DispatchHandler; aborted: Error | null }> = [];
  override dispatch(_opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    this.queued.push({ handler, aborted: null });
    return true;
  }
  release(): void {
    for (const entry of this.queued) {
      const controller = {
        aborted: false,
        paused: false,
        reason: null,
        abort: (e: Error) => (entry.aborted = e),
        pause() {},
        resume() {},
      };
      entry.handler.onRequestStart?.(controller as unknown as Dispatcher.DispatchController, {});
    }
  }
}

describe('call deadline while queued for a connection', () => {
  it('fails at the deadline as not sent (not ambiguous, even for a POST), and the request is never written', async () => {
    const queue = new QueueingDispatcher();
    const upstream = createUpstreamDispatcher({
      origin: 'http://upstream.test',
      connections: 1,
      timeouts: { connectMs: 1_000, headersMs: 1_000, bodyMs: 1_000 },
      maxResponseBytes: 1_024,
      callDeadlineMs: 50,
      getRetries: 0,
      retryBaseDelayMs: 1,
      clock: createManualClock(),
      dispatcher: queue,
    });
    const started = performance.now();
    const error = await upstream.dispatcher
      .request({
        origin: 'http://upstream.test',
        path: '/v2/orders/topups',
        method: 'POST',
        body: '{}',
        upstreamEndpoint: 'submitTopup',
      } as Dispatcher.RequestOptions)
      .catch((e: unknown) => e);
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(error).toBeInstanceOf(UpstreamUnavailableError);
    expect(error).toMatchObject({
      endpoint: 'submitTopup',
      ambiguous: false,
      detail: expect.stringContaining(CALL_DEADLINE_QUEUED),
    });
    // When a connection frees up, the request is aborted before a byte is written.
    queue.release();
    expect(queue.queued[0]!.aborted).toBeInstanceOf(Error);
  });
});
