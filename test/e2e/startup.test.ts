/**
 * What a newcomer sees when the process starts, at the process level: the real entry point (src/app/index.ts, or
 * STARTUP_E2E_ENTRY, e.g. dist/app/index.js) runs as a child process with a controlled environment.
 *
 * - a port already in use: exit code 1 and one line on stderr naming the port and PORT, no stack trace;
 * - the start log line says what is actually served: GraphiQL on/off, sandbox or partner API (flavour, URL without
 *   credentials), the upstream limits, auth mode, cache, metrics;
 * - LOG_FORMAT: JSON lines when stdout is not a terminal, pino-pretty when asked.
 * Each child needs ~2.5–6 s to start on a loaded 2-core box (tsx compiles the sources).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveLogFormat } from '../../src/platform/logger.ts';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ENTRY = process.env.STARTUP_E2E_ENTRY ?? 'src/app/index.ts';
const STARTUP_TIMEOUT_MS = 15_000;
const TEST_TIMEOUT_MS = 25_000;

const children: ChildProcess[] = [];
const servers: Server[] = [];
afterEach(async () => {
  for (const child of children.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

interface Run {
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the exit code once the child has exited and its pipes are drained. */
  exited: Promise<number | null>;
  /** Resolves once stdout contains `text`; rejects if the child exits first or after the startup timeout. */
  waitFor(text: string): Promise<void>;
}

function run(env: Record<string, string>): Run {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env };
  for (const name of Object.keys(childEnv))
    if (/^(UPSTREAM_|AUTH_|SANDBOX_|LOG_FORMAT|GRAPHIQL|METRICS)/.test(name) && !(name in env)) delete childEnv[name];
  // An ephemeral metrics port, so that gateways started side by side never compete for the default one.
  if (!('METRICS_PORT' in env)) childEnv.METRICS_PORT = '0';
  const child = spawn(process.execPath, ['--import', 'tsx', ENTRY], {
    cwd: REPO_ROOT,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  const listeners: (() => void)[] = [];
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    for (const listener of [...listeners]) listener();
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return {
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    waitFor: (text) =>
      new Promise<void>((resolve, reject) => {
        const check = () => stdout.includes(text) && resolve();
        listeners.push(check);
        check();
        void exited.then((code) =>
          reject(new Error(`exited (${code}) before "${text}"\nstdout: ${stdout}\nstderr: ${stderr}`)),
        );
        setTimeout(
          () => reject(new Error(`no "${text}" within ${STARTUP_TIMEOUT_MS} ms\nstdout: ${stdout}\nstderr: ${stderr}`)),
          STARTUP_TIMEOUT_MS,
        ).unref();
      }),
  };
}

const jsonLines = (text: string) =>
  text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
const listeningLine = (r: Run) => jsonLines(r.stdout()).find((l) => String(l.msg).startsWith('gateway listening'))!;

describe('startup, at the process level', () => {
  it('a port already in use: exit 1, one line naming the port and PORT, no stack trace', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    const blocker = createServer();
    servers.push(blocker);
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;

    const r = run({ PORT: String(port) });
    expect(await r.exited).toBe(1);
    const lines = r.stderr().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`port ${port} is already in use`);
    expect(lines[0]).toMatch(/set PORT to a free port/);
    expect(r.stderr()).not.toMatch(/^\s+at /m);
    expect(r.stdout()).not.toMatch(/EADDRINUSE|\s+at /);
  });

  it('the start log tells the truth: sandbox, GraphiQL on, no auth, in-memory cache, metrics (JSON when piped)', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    const r = run({ PORT: '0' });
    await r.waitFor('gateway listening');
    const line = listeningLine(r); // parses: JSON lines by default when stdout is a pipe
    expect(line).toMatchObject({
      graphiql: 'on',
      limits: 'pressone defaults, usage 100/60s per-iccid',
      auth: 'none',
      cache: 'in-memory (one replica only)',
      metrics: expect.stringMatching(/^on at http:\/\/127\.0\.0\.1:\d+\/metrics$/),
    });
    expect(line.upstream).toMatch(/^built-in sandbox \(pressone, http:\/\/127\.0\.0\.1:\d+\/customer\/v2\)$/);
    expect(line.msg).toMatch(
      /GraphiQL on; upstream: built-in sandbox \(pressone, [^)]*\); limits: pressone defaults, usage 100\/60s per-iccid; auth: none; cache: in-memory \(one replica only\); metrics: on at http:\/\/127\.0\.0\.1:\d+\/metrics$/,
    );
  });

  it("the built-in sandbox is served as UPSTREAM_FLAVOR says, with that flavour's limits and their overrides", {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    const r = run({ PORT: '0', UPSTREAM_FLAVOR: 'airalo', UPSTREAM_LIMIT_ALL: '50/60s per-partner' });
    await r.waitFor('gateway listening');
    const line = listeningLine(r);
    expect(line.upstream).toMatch(/^built-in sandbox \(airalo, http:\/\/127\.0\.0\.1:\d+\/v2\)$/);
    expect(line.limits).toBe(
      'airalo defaults (overridden: all), usage 10/60s per-iccid + 5/1s per-partner, all endpoints 50/60s per-partner',
    );
  });

  it('the start log tells the truth: partner API without credentials in the URL, GraphiQL off, API keys, metrics off', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    const r = run({
      PORT: '0',
      // Nothing listens there: the token is fetched lazily, so the gateway still starts (and /ready says 503).
      UPSTREAM_URL: 'http://partner:url-secret@127.0.0.1:9/v2?key=query-secret',
      UPSTREAM_FLAVOR: 'airalo',
      UPSTREAM_CLIENT_ID: 'id',
      UPSTREAM_CLIENT_SECRET: 'client-secret-value',
      AUTH_API_KEYS: 'a:0123456789abcdef0123456789,b:abcdef0123456789abcdef0123',
      METRICS: 'false',
    });
    await r.waitFor('gateway listening');
    expect(listeningLine(r)).toMatchObject({
      graphiql: 'off',
      upstream: 'partner API (airalo, http://127.0.0.1:9/v2)',
      limits: 'airalo defaults, usage 10/60s per-iccid + 5/1s per-partner',
      auth: 'api keys (2)',
      metrics: 'off',
    });
    expect(r.stdout()).not.toMatch(/url-secret|query-secret|client-secret-value|0123456789abcdef/);
  });

  it('LOG_FORMAT=pretty writes human-readable lines', { timeout: TEST_TIMEOUT_MS }, async () => {
    const r = run({ PORT: '0', LOG_FORMAT: 'pretty' });
    await r.waitFor('gateway listening');
    const line = r
      .stdout()
      .split('\n')
      .find((l) => l.includes('gateway listening'))!;
    expect(line).toMatch(
      /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: gateway listening on http:\/\/127\.0\.0\.1:\d+\/graphql — GraphiQL on;/,
    );
    expect(r.stdout()).not.toMatch(/^\{"level"/m);
  });

  it('LOG_FORMAT unset: pretty on a terminal, JSON otherwise', () => {
    expect(resolveLogFormat(undefined, true)).toBe('pretty');
    expect(resolveLogFormat(undefined, false)).toBe('json');
    expect(resolveLogFormat('json', true)).toBe('json');
  });
});
