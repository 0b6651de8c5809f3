/** The HTTP server: routing, auth, fault injection, call recording. Plain node:http. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { createControl, handleControlRequest } from './control.ts';
import { type FaultAction, type FaultPlan, serverErrorResponse } from './faults.ts';
import { balance } from './handlers/account.ts';
import { requireBearer, token } from './handlers/auth.ts';
import type { Handler, RequestContext } from './handlers/context.ts';
import { getSetting, optIn, optOut, simulateWebhook } from './handlers/notifications.ts';
import { getOrder, listOrders, submitTopup } from './handlers/orders.ts';
import { getSim, history, listSims, topups, usage } from './handlers/sims.ts';
import { json, notFound, parseFields, readRawBody } from './http-io.ts';
import { matchRoute, type RouteMatch } from './routes.ts';
import { resolveOptions, SandboxState } from './state.ts';
import type { Sandbox, SandboxEndpoint, SandboxOptions, SandboxResponse } from './types.ts';

const HANDLERS: Record<SandboxEndpoint, Handler> = {
  token,
  balance,
  sims: listSims,
  sim: getSim,
  usage,
  topups,
  packages: history,
  submitTopup,
  orders: listOrders,
  order: getOrder,
  notificationOptIn: optIn,
  notificationSettings: getSetting,
  notificationOptOut: optOut,
  simulatorWebhook: simulateWebhook,
};

function send(res: ServerResponse, response: SandboxResponse): void {
  const body = Buffer.from(response.body);
  res.writeHead(response.status, { ...response.headers, 'Content-Length': body.length });
  res.end(body);
}

/** The answer padded with spaces to `total` bytes, written with backpressure until done or the client hangs up. */
function streamOversize(res: ServerResponse, response: SandboxResponse, total: number, chunked: boolean): void {
  const head = Buffer.from(response.body);
  res.writeHead(response.status, {
    ...response.headers,
    ...(chunked ? {} : { 'Content-Length': Math.max(total, head.length) }),
  });
  const pad = Buffer.alloc(64 * 1024, 0x20);
  let sent = 0;
  const pump = (): void => {
    while (!res.destroyed) {
      if (sent >= total) return void res.end();
      const chunk = sent === 0 ? head : pad.subarray(0, Math.min(pad.length, total - sent));
      sent += chunk.length;
      if (!res.write(chunk)) return void res.once('drain', pump);
    }
  };
  pump();
}

/** The answer `bytesPerTick` bytes at a time, one tick every `intervalMs`. */
function trickle(
  res: ServerResponse,
  response: SandboxResponse,
  intervalMs: number,
  bytesPerTick: number,
  timers: Set<NodeJS.Timeout>,
): void {
  const bytes = Buffer.from(response.body);
  res.writeHead(response.status, { ...response.headers, 'Content-Length': bytes.length });
  let offset = 0;
  const timer = setInterval(() => {
    if (res.destroyed || offset >= bytes.length) return;
    res.write(bytes.subarray(offset, offset + bytesPerTick));
    offset += bytesPerTick;
    if (offset >= bytes.length) res.end();
  }, intervalMs);
  timers.add(timer);
  res.once('close', () => {
    clearInterval(timer);
    timers.delete(timer);
  });
}

async function dispatch(ctx: RequestContext): Promise<SandboxResponse> {
  try {
    if (ctx.endpoint !== 'token') {
      const refused = requireBearer(ctx);
      if (refused !== null) return refused;
    }
    // Authenticated callers only (an unauthenticated one has no client_id to count against); the token request's
    // partner is the client_id it sends, every other request's the client its bearer token was issued to.
    const admission = ctx.state.limits.admit({
      flavour: ctx.flavour,
      endpoint: ctx.endpoint,
      iccid: ctx.iccid,
      clientId: ctx.endpoint === 'token' ? (ctx.body.client_id ?? '') : ctx.state.options.credentials.clientId,
    });
    if (admission?.allowed === false) return admission.response;
    const response = await HANDLERS[ctx.endpoint](ctx);
    if (ctx.endpoint === 'submitTopup') ctx.state.notifications.checkBalance(); // a purchase spends the credit
    // A handler's own limit headers (the simulator's per-IP 429) win over those of the request's admission.
    if (admission) response.headers = { ...admission.headers, ...response.headers };
    return response;
  } catch {
    return serverErrorResponse(500);
  }
}

export function createSandboxServer(state: SandboxState): {
  server: Server;
  setOrigin(origin: string): void;
  shutdown(): void;
} {
  let origin = '';
  let closing = false;
  const timers = new Set<NodeJS.Timeout>();
  const log = state.options.logRequests ? pino({ name: 'sandbox', redact: ['authorization'] }) : null;

  const delay = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });

  async function handleUpstream(
    req: IncomingMessage,
    res: ServerResponse,
    route: RouteMatch,
    search: string,
    path: string,
  ): Promise<void> {
    const started = performance.now();
    const method = req.method ?? 'GET';
    const query = new URLSearchParams(search);
    let body: Record<string, string> = {};
    if (method === 'POST') {
      try {
        body = await parseFields(await readRawBody(req), req.headers['content-type']);
      } catch {
        body = {}; // unreadable bodies fail validation like empty ones
      }
    }
    const iccid =
      route.iccid ??
      (route.endpoint === 'submitTopup'
        ? (body.iccid ?? null)
        : route.endpoint === 'orders'
          ? query.get('filter[iccid]')
          : null);
    const record = (status: number): void => {
      const traceparent = req.headers.traceparent;
      state.record({
        endpoint: route.endpoint,
        flavour: route.flavour,
        method,
        iccid,
        status,
        at: state.clock.now(),
        ...(typeof traceparent === 'string' ? { traceparent } : {}),
      });
      log?.info(
        { method, path, endpoint: route.endpoint, iccid, status, ms: Math.round(performance.now() - started) },
        'request',
      );
    };
    const replace = (action: Extract<FaultAction, { kind: 'hang' | 'respond' }>): void => {
      if (action.kind === 'hang') {
        record(0); // the socket stays open until the client gives up or the sandbox closes
        return;
      }
      send(res, action.response);
      record(action.response.status);
    };
    const plan: FaultPlan = state.faults.plan(route.endpoint, iccid);
    if (plan.delayMs > 0) {
      await delay(plan.delayMs);
      if (closing) return;
    }
    const action = plan.action;
    // An action that replaces the answer acts here, instead of processing, unless its rule says `afterProcessing`.
    if (!plan.actionAfterProcessing && (action?.kind === 'hang' || action?.kind === 'respond')) {
      replace(action);
      return;
    }
    const ctx: RequestContext = {
      state,
      endpoint: route.endpoint,
      flavour: route.flavour,
      iccid,
      orderId: route.orderId,
      query,
      headers: req.headers,
      body,
      origin,
      basePath: route.basePath,
      path,
      clientIp: req.socket.remoteAddress ?? '',
    };
    const response = await dispatch(ctx);
    if (plan.delayAfterMs > 0) {
      await delay(plan.delayAfterMs);
      if (closing) return;
    }
    if (action?.kind === 'hang' || action?.kind === 'respond') {
      replace(action); // processed (an order placed, the balance charged), then the answer is lost or replaced
      return;
    }
    if (action?.kind === 'reset') {
      const bytes = Buffer.from(response.body);
      res.writeHead(response.status, { ...response.headers, 'Content-Length': bytes.length });
      const socket = res.socket;
      if (action.when === 'after-headers') {
        res.flushHeaders();
        setImmediate(() => socket?.destroy());
      } else {
        res.write(bytes.subarray(0, Math.max(1, Math.floor(bytes.length / 2))), () => socket?.destroy());
      }
      record(0);
      return;
    }
    if (action?.kind === 'oversize') {
      record(response.status);
      streamOversize(res, response, action.bytes, action.chunked);
      return;
    }
    if (action?.kind === 'trickle') {
      record(response.status);
      trickle(res, response, action.intervalMs, action.bytesPerTick, timers);
      return;
    }
    if (action?.kind === 'malformed') {
      response.body = response.body.slice(0, Math.max(1, Math.floor(response.body.length / 2)));
    }
    if (action?.kind === 'incomplete') response.body = withoutIds(response.body);
    send(res, response);
    record(response.status);
  }

  const server = createServer((req, res) => {
    const rawUrl = req.url ?? '/';
    const q = rawUrl.indexOf('?');
    const path = q === -1 ? rawUrl : rawUrl.slice(0, q);
    const search = q === -1 ? '' : rawUrl.slice(q + 1);
    if (path.startsWith('/__sandbox/')) {
      handleControlRequest(req, res, path.slice('/__sandbox/'.length), search, state, origin).catch(() => {
        if (!res.headersSent) send(res, serverErrorResponse(500));
      });
      return;
    }
    const route = matchRoute(req.method ?? 'GET', path);
    if ('error' in route) {
      send(
        res,
        route.error === 405
          ? json(405, { message: `The ${req.method} method is not supported for this route.` })
          : notFound(),
      );
      return;
    }
    handleUpstream(req, res, route, search, path).catch(() => {
      if (!res.headersSent) send(res, serverErrorResponse(500));
    });
  });
  server.keepAliveTimeout = 65_000;

  return {
    server,
    setOrigin(value) {
      origin = value;
    },
    shutdown() {
      closing = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
    },
  };
}

export async function createSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const resolved = resolveOptions(options);
  const state = new SandboxState(resolved);
  const { server, setOrigin, shutdown } = createSandboxServer(state);
  // The clock-driven notification check (usage crossing, expiry nearing, balance).
  const checker = setInterval(() => state.notifications.check(), resolved.notificationCheckIntervalMs).unref();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(resolved.port, resolved.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  setOrigin(url);
  let closed: Promise<void> | null = null;
  return {
    url,
    control: createControl(state),
    close() {
      closed ??= new Promise<void>((resolve, reject) => {
        clearInterval(checker);
        state.notifications.close();
        shutdown();
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      });
      return closed;
    },
  };
}

/** The `incompleteBody` fault: a JSON answer whose `data` (or each item of it) lacks `id` and `code`. */
function withoutIds(body: string): string {
  try {
    const parsed = JSON.parse(body) as { data?: unknown };
    const strip = (item: unknown) => {
      if (item !== null && typeof item === 'object') {
        delete (item as Record<string, unknown>).id;
        delete (item as Record<string, unknown>).code;
      }
    };
    if (Array.isArray(parsed.data)) parsed.data.forEach(strip);
    else strip(parsed.data);
    return JSON.stringify(parsed);
  } catch {
    return body;
  }
}
