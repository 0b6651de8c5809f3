/**
 * A fleet of gateway processes for a test: a redis-server of its own (test/support/redis-server.ts), one standalone
 * sandbox process (src/sandbox/main.ts, what `npm run sandbox` runs; steered and counted through its control API
 * `/__sandbox/…`) and N gateways started as `npm start` runs them (`node --enable-source-maps <config.nodeFlags>
 * dist/app/index.js`; globalSetup built dist/), all on loopback ports chosen by the OS.
 *
 * `startFleet()` is called inside a test: it registers the teardown (every process killed, Redis stopped) and, when the
 * test fails, prints the tail of every process's output. A gateway is ready when it has logged its URL and `/ready`
 * answers 200 with Redis `up` (when REDIS_URL is set).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { onTestFailed, onTestFinished } from 'vitest';
import { SANDBOX_CREDENTIALS } from '../../src/sandbox/state.ts';
import type { CallRecord, FaultRule, SandboxOrder } from '../../src/sandbox/types.ts';
import { type RedisServer, startRedisServer } from '../support/redis-server.ts';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const NODE_FLAGS: string[] = (
  (JSON.parse(readFileSync(`${REPO_ROOT}package.json`, 'utf8')) as { config?: { nodeFlags?: string } }).config
    ?.nodeFlags ?? ''
)
  .split(' ')
  .filter(Boolean);
export const API_KEY = 'fleet-suite-api-key-0123456789abcdef';
const START_TIMEOUT_MS = 30_000;

/** One child process with its output kept for the failure report. */
class Child {
  readonly lines: string[] = [];
  readonly exited: Promise<void>;
  constructor(
    readonly name: string,
    readonly process: ChildProcess,
  ) {
    this.exited = new Promise((resolve) => process.once('exit', () => resolve()));
    for (const stream of [process.stdout!, process.stderr!])
      createInterface({ input: stream }).on('line', (line) => {
        this.lines.push(line);
        if (this.lines.length > 5_000) this.lines.splice(0, 1_000);
      });
  }
  get running(): boolean {
    return this.process.exitCode === null && this.process.signalCode === null;
  }
  /** Resolves with the first line (past or future) `found` accepts; rejects on exit or after `timeoutMs`. */
  waitFor<T>(found: (line: string) => T | undefined, timeoutMs = START_TIMEOUT_MS): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const check = () => {
        for (const line of this.lines) {
          const value = found(line);
          if (value !== undefined) return value;
        }
        return undefined;
      };
      const early = check();
      if (early !== undefined) return resolve(early);
      const timer = setTimeout(() => done(new Error(`${this.name}: not seen within ${timeoutMs} ms`)), timeoutMs);
      const poll = setInterval(() => {
        const value = check();
        if (value !== undefined) done(undefined, value);
      }, 10);
      const onExit = () => done(new Error(`${this.name} exited (${this.process.exitCode ?? this.process.signalCode})`));
      this.process.once('exit', onExit);
      const done = (error?: Error, value?: T) => {
        clearTimeout(timer);
        clearInterval(poll);
        this.process.off('exit', onExit);
        if (error) reject(error);
        else resolve(value as T);
      };
    });
  }
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (!this.running) return;
    this.process.kill(signal);
    await this.exited;
  }
}

/** The environment without anything of ours the developer's shell may carry. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(env))
    if (/^(UPSTREAM_|AUTH_|SANDBOX_|REDIS_|METRICS|LOG_|CACHE_|RESPONSE_CACHE|PORT$|HOST$|GRAPHIQL$)/.test(name))
      delete env[name];
  return env;
}

export interface SandboxProcess {
  readonly url: string;
  control<T>(path: string, init?: { method?: string; body?: unknown }): Promise<T>;
  /** Upstream calls recorded so far, filtered like `GET /__sandbox/calls` (`endpoint`, `iccid`, `status`, `method`). */
  calls(filter?: Record<string, string | number>): Promise<CallRecord[]>;
  countCalls(filter?: Record<string, string | number>): Promise<number>;
  resetCalls(): Promise<void>;
  orders(): Promise<SandboxOrder[]>;
  addFault(rule: FaultRule): Promise<string>;
  iccids(query?: string): Promise<string[]>;
  /** An ACTIVE SIM with top-ups and a package it can buy without a sandbox refusal. */
  purchasable(index?: number): Promise<{ iccid: string; packageId: string }>;
}

export interface GqlAnswer {
  status: number;
  data?: any;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
}

export interface GatewayProcess {
  readonly name: string;
  /** http://127.0.0.1:<port> */
  readonly origin: string;
  readonly metricsUrl: string;
  readonly logs: string[];
  gql(query: string, variables?: Record<string, unknown>, init?: { signal?: AbortSignal }): Promise<GqlAnswer>;
  ready(): Promise<{ status: number; body: Record<string, unknown> }>;
  metrics(): Promise<string>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export interface Fleet {
  redis: RedisServer;
  sandbox: SandboxProcess;
  replicas: GatewayProcess[];
  /** Every replica reports Redis `up` in /ready (after a restart, say). */
  untilRedisUp(timeoutMs?: number): Promise<void>;
}

export interface FleetOptions {
  replicas?: number;
  /** Extra gateway environment (all replicas), e.g. shorter upstream timeouts. `REDIS_URL: ''` runs in-memory. */
  env?: Record<string, string>;
  /** Extra sandbox environment, e.g. `SANDBOX_SIM_COUNT`. */
  sandboxEnv?: Record<string, string>;
  /** REDIS_URL from the fleet's redis-server (default: its plain URL), e.g. to put a password in it. */
  redisUrl?: (redis: RedisServer) => string;
}

export async function until<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  what: string,
  timeoutMs = 10_000,
  intervalMs = 25,
): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

export async function startFleet(options: FleetOptions = {}): Promise<Fleet> {
  const children: Child[] = [];
  const redisServers: RedisServer[] = [];
  onTestFinished(async () => {
    await Promise.all(children.map((c) => c.kill('SIGKILL')));
    await Promise.all(redisServers.map((r) => r.stop()));
  });
  onTestFailed(() => {
    for (const child of children)
      console.error(`----- ${child.name} (last 80 lines) -----\n${child.lines.slice(-80).join('\n')}`);
  });

  const redis = await startRedisServer();
  redisServers.push(redis);
  const sandbox = await startSandbox(children, options.sandboxEnv ?? {});
  const env = { REDIS_URL: options.redisUrl?.(redis) ?? redis.url, ...options.env };
  const replicas = await Promise.all(
    Array.from({ length: options.replicas ?? 3 }, (_, i) =>
      startGateway(children, `gateway-${String.fromCharCode(65 + i)}`, sandbox.url, env),
    ),
  );
  const fleet: Fleet = {
    redis,
    sandbox,
    replicas,
    async untilRedisUp(timeoutMs = 10_000) {
      for (const replica of replicas)
        await until(
          async () => ((await replica.ready()).body.redis === 'up' ? true : undefined),
          `${replica.name} redis up`,
          timeoutMs,
        );
    },
  };
  if (env.REDIS_URL) await fleet.untilRedisUp(START_TIMEOUT_MS);
  return fleet;
}

async function startSandbox(children: Child[], extraEnv: Record<string, string>): Promise<SandboxProcess> {
  const child = new Child(
    'sandbox',
    spawn(process.execPath, ['--import', 'tsx', 'src/sandbox/main.ts'], {
      cwd: REPO_ROOT,
      env: { ...cleanEnv(), SANDBOX_PORT: '0', ...extraEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  children.push(child);
  const url = await child.waitFor((line) => line.match(/listening on (http:\/\/\S+)/)?.[1]);
  const query = (filter: Record<string, string | number> = {}) =>
    new URLSearchParams(Object.entries(filter).map(([k, v]) => [k, String(v)])).toString();
  const sandbox: SandboxProcess = {
    url,
    async control<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
      const response = await fetch(`${url}/__sandbox/${path}`, {
        method: init.method ?? 'GET',
        ...(init.body === undefined
          ? {}
          : { body: JSON.stringify(init.body), headers: { 'content-type': 'application/json' } }),
      });
      if (response.status !== 200) throw new Error(`sandbox control ${path}: HTTP ${response.status}`);
      return (await response.json()) as T;
    },
    calls: async (filter) => (await sandbox.control<{ calls: CallRecord[] }>(`calls?${query(filter)}`)).calls,
    countCalls: async (filter) => (await sandbox.control<{ count: number }>(`calls?${query(filter)}`)).count,
    async resetCalls() {
      await sandbox.control('calls', { method: 'DELETE' });
    },
    orders: async () => (await sandbox.control<{ orders: SandboxOrder[] }>('orders')).orders,
    addFault: async (rule) => (await sandbox.control<{ id: string }>('faults', { method: 'POST', body: rule })).id,
    iccids: async (q = '') => (await sandbox.control<{ iccids: string[] }>(`iccids?${q}`)).iccids,
    async purchasable(index = 0) {
      const iccid = (await sandbox.iccids('status=ACTIVE&hasTopups=true'))[index]!;
      const { packageIds } = await sandbox.control<{ packageIds: string[] }>(`topup-package-ids/${iccid}`);
      const packageId = packageIds.find((id) => !id.startsWith('sandbox-trigger-'))!;
      return { iccid, packageId };
    },
  };
  return sandbox;
}

async function startGateway(
  children: Child[],
  name: string,
  sandboxUrl: string,
  extraEnv: Record<string, string>,
): Promise<GatewayProcess> {
  const env: NodeJS.ProcessEnv = {
    ...cleanEnv(),
    PORT: '0',
    HOST: '127.0.0.1',
    METRICS_PORT: '0',
    LOG_LEVEL: 'info',
    LOG_FORMAT: 'json',
    GRAPHIQL: 'false',
    UPSTREAM_URL: `${sandboxUrl}/customer/v2`,
    UPSTREAM_FLAVOR: 'pressone',
    UPSTREAM_CLIENT_ID: SANDBOX_CREDENTIALS.clientId,
    UPSTREAM_CLIENT_SECRET: SANDBOX_CREDENTIALS.clientSecret,
    AUTH_API_KEYS: `backend:${API_KEY}`,
    ...extraEnv,
  };
  const child = new Child(
    name,
    spawn(process.execPath, ['--enable-source-maps', ...NODE_FLAGS, 'dist/app/index.js'], {
      cwd: REPO_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  children.push(child);
  const field = (key: string) => (line: string) => {
    if (!line.startsWith('{')) return undefined;
    try {
      const value = (JSON.parse(line) as Record<string, unknown>)[key];
      // Only the listeners' own lines carry http URLs (the Redis state lines name the Redis URL as `redisUrl`).
      return typeof value === 'string' && value.startsWith('http') ? value : undefined;
    } catch {
      return undefined; // a partial or non-JSON line
    }
  };
  const [graphqlUrl, metricsUrl] = await Promise.all([child.waitFor(field('url')), child.waitFor(field('metricsUrl'))]);
  const origin = new URL(graphqlUrl).origin;
  const gateway: GatewayProcess = {
    name,
    origin,
    metricsUrl,
    logs: child.lines,
    async gql(query, variables, init = {}) {
      const response = await fetch(`${origin}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', 'x-api-key': API_KEY },
        body: JSON.stringify({ query, variables }),
        ...(init.signal ? { signal: init.signal } : {}),
      });
      return { status: response.status, ...((await response.json()) as object) };
    },
    async ready() {
      const response = await fetch(`${origin}/ready`);
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    },
    metrics: async () => (await fetch(metricsUrl)).text(),
    kill: (signal) => child.kill(signal),
  };
  await until(async () => ((await gateway.ready()).status === 200 ? true : undefined), `${name} /ready`);
  return gateway;
}

export const PURCHASE = `mutation Buy($input: PurchaseTopupInput!) {
  purchaseTopup(input: $input) {
    __typename
    ... on PurchaseTopupSuccess { replayed order { id } }
    ... on Error { code message }
  }
}`;

/** The `purchaseTopup` member of an answer, or a description of what came back instead (GraphQL errors, HTTP status). */
export function purchaseResult(answer: GqlAnswer): {
  __typename: string;
  replayed?: boolean;
  order?: { id: string };
  code?: string;
} {
  const result = answer.data?.purchaseTopup;
  if (!result) throw new Error(`no purchaseTopup result: HTTP ${answer.status} ${JSON.stringify(answer.errors)}`);
  return result;
}
