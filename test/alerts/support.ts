/**
 * Live-alert test support: the harness's gateways served on real loopback sockets (webhooks and SSE are HTTP-edge
 * behaviour), a `graphql-sse` client per test, signed deliveries, and a wait helper.
 */
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Client, createClient } from 'graphql-sse';
import { SignJWT } from 'jose';
import type { Gateway } from '../../src/app/gateway.ts';
import { createHttpHandler } from '../../src/app/http-handler.ts';
import { type Harness, SANDBOX_CREDENTIALS, startHarness } from '../support/harness.ts';

export const JWT_SECRET = 'alerts-test-jwt-secret-long-enough-for-hs256';
export const API_KEY = 'alerts-partner-key-0123456789abcdef';
export const PARTNER = { 'x-api-key': API_KEY };
export const AUTH_ENV = { AUTH_API_KEYS: `backend:${API_KEY}`, AUTH_JWT_SECRET: JWT_SECRET };

export interface Served {
  h: Harness;
  /** Origin of each replica's socket, e.g. http://127.0.0.1:43210 */
  origins: string[];
  close(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function listen(gateway: Gateway, port = 0): Promise<Server> {
  const server = createServer(createHttpHandler(gateway));
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

/**
 * A harness whose gateways listen on loopback; the first on a port chosen up front, so that WEBHOOK_PUBLIC_URL (the
 * URL the sandbox is told to deliver to at opt-in) can name it.
 */
export async function serveHarness(options: Parameters<typeof startHarness>[0] = {}): Promise<Served> {
  const port = await freePort();
  const h = await startHarness({
    ...options,
    env: { WEBHOOK_PUBLIC_URL: `http://127.0.0.1:${port}`, ...options.env },
  });
  const servers = await Promise.all(h.replicas.map((r, i) => listen(r.gateway, i === 0 ? port : 0)));
  const origins = servers.map((s) => `http://127.0.0.1:${(s.address() as AddressInfo).port}`);
  return {
    h,
    origins,
    async close() {
      for (const s of servers) s.closeAllConnections();
      await h.close();
      await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
    },
  };
}

export const sign = (body: string | Buffer, secret = SANDBOX_CREDENTIALS.clientSecret) =>
  createHmac('sha512', secret).update(body).digest('hex');

export function postWebhook(
  origin: string,
  body: string,
  /** null: no signature header. */
  signature: string | null = sign(body),
  path = '/webhooks/airalo',
): Promise<Response> {
  return fetch(`${origin}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(signature === null ? {} : { 'airalo-signature': signature }) },
    body,
  });
}

export function userToken(h: Harness, sub: string, iccids: string[]): Promise<string> {
  return new SignJWT({ iccids })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setIssuedAt(Math.floor(h.clock.now() / 1000))
    .setExpirationTime(Math.floor(h.clock.now() / 1000) + 3600)
    .sign(new TextEncoder().encode(JWT_SECRET));
}

export interface Received<T> {
  values: { data: T; at: number }[];
  errors: unknown[];
  completed: boolean;
  /** Resolves when at least `n` values arrived (rejects after `timeoutMs`). */
  next(n?: number, timeoutMs?: number): Promise<void>;
  dispose(): void;
}

/** Subscribes with the `graphql-sse` client (distinct connections mode) and records what arrives, with arrival times. */
export function subscribe<T = any>(
  client: Client,
  query: string,
  variables: Record<string, unknown> = {},
): Received<T> {
  const received: Received<T> = {
    values: [],
    errors: [],
    completed: false,
    next: (n = received.values.length + 1, timeoutMs = 5_000) =>
      waitFor(() => received.values.length >= n || received.errors.length > 0, timeoutMs),
    dispose: () => {},
  };
  received.dispose = client.subscribe<T>(
    { query, variables },
    {
      next: (value) => {
        if (value.errors?.length) received.errors.push(...value.errors);
        else received.values.push({ data: value.data as T, at: performance.now() });
      },
      error: (error) => received.errors.push(error),
      complete: () => {
        received.completed = true;
      },
    },
  );
  return received;
}

export function sseClient(url: string, headers: Record<string, string> = PARTNER, fetchFn?: typeof fetch): Client {
  return createClient({ url, headers, retryAttempts: 0, ...(fetchFn ? { fetchFn } : {}) });
}

export async function waitFor(condition: () => boolean, timeoutMs = 5_000, stepMs = 5): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, stepMs));
  }
}

/** A low-data payload as Airalo documents it. */
export const lowData = (iccid: string, level = '75%', remaining = 25) =>
  JSON.stringify({ level, package_name: 'bonbon-7gb-10days', remaining_percentage: remaining, iccid });
