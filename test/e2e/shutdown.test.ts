/**
 * Graceful shutdown, at the process level: the real entry point (src/app/index.ts, built-in sandbox because UPSTREAM_URL
 * is unset) runs as a child process; the tests talk to it over TCP and steer its in-process sandbox through the
 * sandbox control API (`/__sandbox/...`), which stays up until the gateway has drained.
 *
 * Guarantee under test: on SIGTERM the gateway stops accepting connections, lets in-flight requests (queries and
 * purchases) finish with their normal answers, then exits with code 0. A shutdown that exits at once, or kills
 * in-flight work, fails the first two tests (the in-flight request gets no answer, or the order never lands).
 *
 * Timing: the child needs ~2.5–6 s to start (tsx compiles the sources); the shutdown part of each test is ~1–2 s.
 * Signals and order timestamps are compared on the child's own clock (pino's `time`, the sandbox's `createdAt`), so
 * the "placed after shutdown began" check does not depend on how fast the pipe to the test process is.
 *
 * ENTRY (env SHUTDOWN_E2E_ENTRY, default src/app/index.ts) lets the same tests run against another entry, e.g. the
 * compiled `dist/app/index.js` or a patched copy.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { TRIGGER_CODES } from '../../src/sandbox/index.ts';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ENTRY = process.env.SHUTDOWN_E2E_ENTRY ?? 'src/app/index.ts';
/** Startup (TypeScript compiled on the fly) is slow on a loaded 2-core box; the shutdown checks have their own bounds. */
const STARTUP_TIMEOUT_MS = 12_000;
const TEST_TIMEOUT_MS = 25_000;
/** How long the upstream call under test is held up, and when the signal is sent after the request started. */
const UPSTREAM_LATENCY_MS = 800;
const SIGNAL_AFTER_MS = 150;
/** Exit budget once nothing is in flight any more (the force-exit timer in index.ts is the derived drain, 155 s with the default timeouts, exit code 1). */
const EXIT_BUDGET_MS = 2_000;

interface LogLine {
  level: number;
  time: number;
  msg: string;
  [field: string]: unknown;
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** performance.now() in the test process */
  at: number;
}

interface GatewayProcess {
  child: ChildProcess;
  /** `http://127.0.0.1:<port>/graphql` */
  url: string;
  sandboxUrl: string;
  logs: LogLine[];
  stderr: () => string;
  exited: Promise<Exit>;
  /** Resolves with the first log line (already seen or still to come) whose msg starts with `prefix`. */
  waitForLog(prefix: string, timeoutMs?: number): Promise<LogLine>;
}

const children: ChildProcess[] = [];
const agents: Agent[] = [];

afterEach(() => {
  for (const child of children.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const agent of agents.splice(0)) agent.destroy();
});

async function startGateway(): Promise<GatewayProcess> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // The built-in sandbox (and no authentication) only when no upstream is configured; nothing from the caller's env leaks in.
  for (const name of Object.keys(env))
    if (/^(UPSTREAM_|AUTH_|SANDBOX_|LOG_FORMAT|METRICS)/.test(name)) delete env[name];
  Object.assign(env, { PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', LOG_FORMAT: 'json', METRICS_PORT: '0' });
  const child = spawn(process.execPath, ['--import', 'tsx', ENTRY], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);

  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  // 'close', not 'exit': only then has every line the child wrote to stdout been read.
  const exited = new Promise<Exit>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal, at: performance.now() })),
  );

  const logs: LogLine[] = [];
  const waiters: { prefix: string; resolve: (line: LogLine) => void }[] = [];
  let url: string | undefined;
  let sandboxUrl: string | undefined;
  let ready!: () => void;
  const started = new Promise<void>((resolve) => (ready = resolve));
  createInterface({ input: child.stdout! }).on('line', (text) => {
    let line: LogLine;
    try {
      line = JSON.parse(text) as LogLine;
    } catch {
      return; // not a log line
    }
    logs.push(line);
    if (typeof line.url === 'string') url = line.url;
    if (typeof line.sandboxUrl === 'string') sandboxUrl = line.sandboxUrl;
    if (url && sandboxUrl) ready();
    for (const waiter of [...waiters]) {
      if (line.msg.startsWith(waiter.prefix)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  });

  const failure = (what: string) => new Error(`${what}\nstdout: ${JSON.stringify(logs)}\nstderr: ${stderr}`);
  await Promise.race([
    started,
    exited.then((exit) =>
      Promise.reject(failure(`gateway exited during startup (code ${exit.code}, signal ${exit.signal})`)),
    ),
    sleep(STARTUP_TIMEOUT_MS).then(() =>
      Promise.reject(failure(`gateway did not log url and sandboxUrl within ${STARTUP_TIMEOUT_MS} ms`)),
    ),
  ]);

  return {
    child,
    url: url!,
    sandboxUrl: sandboxUrl!,
    logs,
    stderr: () => stderr,
    exited,
    waitForLog(prefix, timeoutMs = 3_000) {
      const seen = logs.find((l) => l.msg.startsWith(prefix));
      if (seen) return Promise.resolve(seen);
      return Promise.race([
        new Promise<LogLine>((resolve) => waiters.push({ prefix, resolve })),
        sleep(timeoutMs).then(() => Promise.reject(failure(`no log line "${prefix}…" within ${timeoutMs} ms`))),
      ]);
    },
  };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The exit, or a rejection when the child is still running `ms` after the call. */
function exitWithin(gateway: GatewayProcess, ms: number): Promise<Exit> {
  return Promise.race([
    gateway.exited,
    sleep(ms).then(() =>
      Promise.reject(
        new Error(`gateway still running ${ms} ms later; logs: ${JSON.stringify(gateway.logs.map((l) => l.msg))}`),
      ),
    ),
  ]);
}

/** The sandbox control API of the child (never authenticated). */
async function control<T>(
  gateway: GatewayProcess,
  path: string,
  init?: { method: string; body?: unknown },
): Promise<T> {
  const response = await fetch(`${gateway.sandboxUrl}/__sandbox/${path}`, {
    method: init?.method ?? 'GET',
    ...(init?.body !== undefined
      ? { body: JSON.stringify(init.body), headers: { 'content-type': 'application/json' } }
      : {}),
  });
  expect(response.status, `control ${path}`).toBe(200);
  return (await response.json()) as T;
}

interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: any;
  /** performance.now() when the whole answer was in */
  at: number;
}

/**
 * One GraphQL POST over its own TCP connection (`Connection: close`), or over `agent` when given. Rejects on any
 * transport error (refused, reset, hang-up).
 */
function graphql(
  gateway: GatewayProcess,
  query: string,
  variables: Record<string, unknown>,
  agent?: Agent,
): Promise<HttpAnswer> {
  const payload = JSON.stringify({ query, variables });
  return new Promise((resolve, reject) => {
    const req = request(
      gateway.url,
      {
        method: 'POST',
        agent: agent ?? false,
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          'x-graphql-csrf': '1',
          'content-length': Buffer.byteLength(payload),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('error', reject);
        res.on('end', () => {
          try {
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: JSON.parse(text),
              at: performance.now(),
            });
          } catch (error) {
            reject(new Error(`not JSON (${res.statusCode}): ${text}`, { cause: error }));
          }
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/**
 * Connects to the gateway's port until a connection attempt fails (resolves with its error code); rejects when
 * connections are still accepted after `ms`.
 */
async function refusedWithin(gateway: GatewayProcess, ms: number): Promise<string> {
  const deadline = performance.now() + ms;
  for (;;) {
    const outcome = await connectOnce(gateway);
    if (outcome !== 'accepted') return outcome;
    if (performance.now() > deadline)
      throw new Error(`new connections still accepted ${ms} ms after the shutdown began`);
    await sleep(20);
  }
}

/** One TCP connect to the gateway's port: 'accepted' or the error code. */
function connectOnce(gateway: GatewayProcess): Promise<string> {
  const { hostname, port } = new URL(gateway.url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) });
    socket.setTimeout(2_000, () => {
      socket.destroy();
      resolve('TIMEOUT');
    });
    socket.once('connect', () => {
      socket.destroy();
      resolve('accepted');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

/** Settles-or-not flag for a promise, to assert that a request was still in flight at some point. */
function track<T>(promise: Promise<T>): { promise: Promise<T>; settled: () => boolean } {
  let done = false;
  void promise.then(
    () => (done = true),
    () => (done = true),
  );
  return { promise, settled: () => done };
}

const LIST_USAGE_QUERY =
  'query ListUsage($first: Int) { simList(first: $first) { edges { node { iccid usage { status remainingMb } } } } }';
const USAGE_QUERY = 'query Usage($iccid: ID!) { sim(iccid: $iccid) { iccid usage { status remainingMb totalMb } } }';
const PACKAGES_QUERY = 'query Packages($iccid: ID!) { sim(iccid: $iccid) { iccid topupPackages { id } } }';
const PURCHASE = `mutation Buy($input: PurchaseTopupInput!) {
  purchaseTopup(input: $input) {
    __typename
    ... on PurchaseTopupSuccess { replayed order { id packageId code } }
    ... on Error { code message }
  }
}`;

interface SandboxOrder {
  id: number;
  iccid: string;
  packageId: string;
  description: string | null;
  createdAt: number;
}

async function activeIccid(gateway: GatewayProcess): Promise<string> {
  const { iccids } = await control<{ iccids: string[] }>(gateway, 'iccids?status=ACTIVE');
  expect(iccids.length).toBeGreaterThan(0);
  return iccids[0]!;
}

describe('graceful shutdown of the gateway process (src/app/index.ts)', () => {
  it(
    'SIGTERM during a query: the query is answered (200, data, no errors), new connections are refused, exit code 0',
    async () => {
      const gateway = await startGateway();
      // Two sequential upstream phases, both slow: the SIM list is in flight when the signal arrives, and the usage
      // reads for the listed SIMs are only sent after shutdown has begun (a shutdown that releases the upstream
      // client before the HTTP requests are done fails them).
      await control(gateway, 'faults', {
        method: 'POST',
        body: { endpoint: 'sims', latencyMs: UPSTREAM_LATENCY_MS / 2 },
      });
      await control(gateway, 'faults', {
        method: 'POST',
        body: { endpoint: 'usage', latencyMs: UPSTREAM_LATENCY_MS / 2 },
      });

      const sent = performance.now();
      const query = track(graphql(gateway, LIST_USAGE_QUERY, { first: 3 }));
      await sleep(SIGNAL_AFTER_MS);
      expect(query.settled(), 'the query must still be in flight when the signal is sent').toBe(false);
      gateway.child.kill('SIGTERM');

      const stopping = await gateway.waitForLog('shutting down');
      expect(stopping.signal).toBe('SIGTERM');
      // The listening socket closes right after that line is written: new connections are refused within a moment,
      // while the query is still being answered.
      expect(['ECONNREFUSED', 'ECONNRESET']).toContain(await refusedWithin(gateway, 500));
      expect(query.settled(), 'the query must still be in flight when new connections are refused').toBe(false);

      const answer = await query.promise;
      expect(answer.status).toBe(200);
      expect(answer.body.errors).toBeUndefined();
      const nodes = (answer.body.data.simList.edges as { node: { iccid: string; usage: unknown } }[]).map(
        (e) => e.node,
      );
      expect(nodes).toHaveLength(3);
      for (const node of nodes) expect(node.usage, node.iccid).toMatchObject({ status: expect.any(String) });
      expect(answer.at - sent, 'the answer waited for both delayed upstream phases').toBeGreaterThanOrEqual(
        UPSTREAM_LATENCY_MS - 50,
      );

      const exit = await exitWithin(gateway, EXIT_BUDGET_MS);
      expect(exit, gateway.stderr()).toMatchObject({ code: 0, signal: null });
      const messages = gateway.logs.map((l) => l.msg);
      expect(messages).toContain('stopped');
      expect(messages.indexOf('stopped')).toBeGreaterThan(messages.findIndex((m) => m.startsWith('shutting down')));
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'SIGTERM during purchaseTopup: the order is placed during the drain, the mutation answers PurchaseTopupSuccess with that order, exit code 0',
    async () => {
      const gateway = await startGateway();
      const iccid = await activeIccid(gateway);
      const packages = await graphql(gateway, PACKAGES_QUERY, { iccid });
      expect(packages.status).toBe(200);
      const packageId = (packages.body.data.sim.topupPackages as { id: string }[])
        .map((p) => p.id)
        .find((id) => !TRIGGER_CODES.some(([marker]) => id.includes(marker)));
      expect(packageId, `a top-up package for ${iccid}`).toBeDefined();
      expect((await control<{ orders: SandboxOrder[] }>(gateway, 'orders')).orders).toEqual([]);

      // The submit is held up before the order is placed (so it lands during the drain) and again after it, before
      // the answer (so the placed order can be read from the sandbox while the mutation is still waiting for it).
      await control(gateway, 'faults', {
        method: 'POST',
        body: { endpoint: 'submitTopup', latencyMs: UPSTREAM_LATENCY_MS / 2 },
      });
      await control(gateway, 'faults', {
        method: 'POST',
        body: { endpoint: 'submitTopup', latencyMs: UPSTREAM_LATENCY_MS, afterProcessing: true },
      });

      const idempotencyKey = `shutdown-e2e-${process.pid}-${Date.now()}`;
      const mutation = track(graphql(gateway, PURCHASE, { input: { iccid, packageId, idempotencyKey } }));
      await sleep(SIGNAL_AFTER_MS);
      expect(mutation.settled(), 'the purchase must still be in flight when the signal is sent').toBe(false);
      gateway.child.kill('SIGTERM');
      const stopping = await gateway.waitForLog('shutting down');
      expect(mutation.settled(), 'the purchase must still be in flight when shutdown begins').toBe(false);

      // While the child drains, its sandbox is still up: watch the order land, before the mutation is answered.
      let placed: SandboxOrder[] = [];
      while (placed.length === 0 && !mutation.settled()) {
        placed = (await control<{ orders: SandboxOrder[] }>(gateway, 'orders')).orders;
        if (placed.length === 0) await sleep(25);
      }
      expect(mutation.settled(), 'the order must be visible in the sandbox before the mutation is answered').toBe(
        false,
      );
      expect(placed).toHaveLength(1);
      const order = placed[0]!;
      expect(order).toMatchObject({ iccid, packageId });
      // Both timestamps come from the child's clock: the order was placed after shutdown had begun.
      expect(order.createdAt).toBeGreaterThanOrEqual(stopping.time);

      const answer = await mutation.promise;
      expect(answer.status).toBe(200);
      expect(answer.body.errors).toBeUndefined();
      expect(answer.body.data.purchaseTopup).toMatchObject({
        __typename: 'PurchaseTopupSuccess',
        replayed: false,
        order: { id: String(order.id), packageId },
      });

      const exit = await exitWithin(gateway, EXIT_BUDGET_MS);
      expect(exit, gateway.stderr()).toMatchObject({ code: 0, signal: null });
      expect(gateway.logs.map((l) => l.msg)).toContain('purchase: top-up ordered');
      expect(gateway.logs.map((l) => l.msg)).toContain('stopped');
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'SIGTERM while idle: "shutting down" is logged and the process exits with code 0 within 2 s',
    async () => {
      const gateway = await startGateway();
      // One answered request first, so the server has had a connection (closed by now: this client sends Connection: close).
      expect((await graphql(gateway, PACKAGES_QUERY, { iccid: await activeIccid(gateway) })).status).toBe(200);

      const signalled = performance.now();
      gateway.child.kill('SIGTERM');
      const exit = await exitWithin(gateway, EXIT_BUDGET_MS);
      expect(exit, gateway.stderr()).toMatchObject({ code: 0, signal: null });
      expect(exit.at - signalled).toBeLessThan(EXIT_BUDGET_MS);
      expect(gateway.logs.find((l) => l.msg.startsWith('shutting down'))).toMatchObject({
        msg: 'shutting down: draining in-flight requests',
        signal: 'SIGTERM',
      });
      expect(gateway.logs.at(-1)?.msg).toBe('stopped');
    },
    TEST_TIMEOUT_MS,
  );

  /**
   * Keep-alive clients: a request in flight at the signal must be answered with `Connection: close`, or `server.close()`
   * waits for the client to hang up (an idle client delays the exit by the keep-alive timeout; a busy one is served
   * until the force timer cuts everything, purchases included).
   */
  it(
    'SIGTERM during a query on a keep-alive connection: the answer closes the connection and the process exits promptly',
    async () => {
      const gateway = await startGateway();
      const iccid = await activeIccid(gateway);
      await control(gateway, 'faults', { method: 'POST', body: { endpoint: 'usage', latencyMs: UPSTREAM_LATENCY_MS } });
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      agents.push(agent);

      const query = track(graphql(gateway, USAGE_QUERY, { iccid }, agent));
      await sleep(SIGNAL_AFTER_MS);
      gateway.child.kill('SIGTERM');
      await gateway.waitForLog('shutting down');
      expect(query.settled()).toBe(false);

      const answer = await query.promise;
      expect(answer.status).toBe(200);
      expect(answer.body.data.sim.usage).not.toBeNull();
      expect(answer.headers.connection).toBe('close');
      const exit = await exitWithin(gateway, EXIT_BUDGET_MS);
      expect(exit).toMatchObject({ code: 0, signal: null });
    },
    TEST_TIMEOUT_MS,
  );
});
