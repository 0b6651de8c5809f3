/**
 * The HTTP edge at the process level: the real entry point (src/app/index.ts, built-in sandbox, API keys
 * configured, NODE_ENV=development) as a child process, spoken to over TCP. Metrics are served on their own
 * port and not on the GraphQL port; unauthenticated callers learn nothing about the schema; CORS follows
 * CORS_ORIGINS; no error detail leaves the process.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { UNAUTHENTICATED_MESSAGE } from '../../src/domain/auth.ts';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const STARTUP_TIMEOUT_MS = 12_000;
const API_KEY = 'e2e-partner-key-0123456789abcdefgh';

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

/** Starts the gateway; resolves with its GraphQL URL and metrics URL once both listeners have logged. */
async function startGateway(
  extra: Record<string, string>,
): Promise<{ url: string; metricsUrl: string; logs: Record<string, unknown>[] }> {
  // Nothing from the caller's environment configures the child: the built-in sandbox, and only `extra`.
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(env))
    if (/^(UPSTREAM_|SANDBOX_|AUTH_|CORS_|METRICS|READY_|LOG_FORMAT|REDIS_)/.test(name)) delete env[name];
  Object.assign(env, {
    PORT: '0',
    HOST: '127.0.0.1',
    METRICS_PORT: '0',
    LOG_LEVEL: 'info',
    LOG_FORMAT: 'json',
    ...extra,
  });
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/app/index.ts'], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const logs: Record<string, unknown>[] = [];
  let url: string | undefined;
  let metricsUrl: string | undefined;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no url/metricsUrl within ${STARTUP_TIMEOUT_MS} ms: ${JSON.stringify(logs)} ${stderr}`)),
      STARTUP_TIMEOUT_MS,
    );
    child.once('close', (code) => reject(new Error(`gateway exited (${code}): ${JSON.stringify(logs)} ${stderr}`)));
    createInterface({ input: child.stdout! }).on('line', (text) => {
      try {
        logs.push(JSON.parse(text) as Record<string, unknown>);
      } catch {
        return;
      }
      const line = logs.at(-1)!;
      if (typeof line.url === 'string') url = line.url;
      if (typeof line.metricsUrl === 'string') metricsUrl = line.metricsUrl;
      if (url && metricsUrl) {
        clearTimeout(timer);
        resolve({ url, metricsUrl, logs });
      }
    });
  });
}

const post = (url: string, body: string, headers: Record<string, string> = {}) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
    body,
  });

describe('the gateway process at its HTTP edge', () => {
  it('serves metrics only on METRICS_PORT, authenticates before parsing, applies CORS_ORIGINS and sends no error detail', async () => {
    const { url, metricsUrl, logs } = await startGateway({
      AUTH_API_KEYS: `backend:${API_KEY}`,
      INTROSPECTION: 'false',
      NODE_ENV: 'development',
      CORS_ORIGINS: 'https://app.example',
    });
    const origin = new URL(url).origin;
    const key = { 'x-api-key': API_KEY };

    // Unauthenticated: the same 401 whatever the body, no schema detail; the reason is in the log.
    for (const body of [
      JSON.stringify({ query: '{ nope }' }),
      JSON.stringify({ query: '{ sim(' }),
      '{"query": "{ not json',
    ]) {
      const response = await post(url, body);
      expect(response.status).toBe(401);
      expect(await response.json()).toEqual({
        errors: [{ message: UNAUTHENTICATED_MESSAGE, extensions: { code: 'UNAUTHENTICATED' } }],
      });
    }
    // The log line is written by another process: it may reach us just after the answer.
    await expect
      .poll(() => logs.some((l) => l.msg === 'authentication failed' && typeof l.reason === 'string'))
      .toBe(true);
    expect(JSON.stringify(logs)).not.toContain(API_KEY);
    // Authenticated: parsed and validated as usual.
    expect(await (await post(url, JSON.stringify({ query: '{ nope }' }), key)).text()).toMatch(/Cannot query field/);

    // Malformed JSON with NODE_ENV=development: the message and code, not the parser's message.
    const malformed = await post(url, '{"query": "{ __typename }", "x', key);
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toEqual({
      errors: [{ message: 'POST body sent invalid JSON.', extensions: { code: 'BAD_REQUEST' } }],
    });

    // Metrics: on their own port only.
    expect(new URL(metricsUrl).port).not.toBe(new URL(url).port);
    expect((await fetch(`${origin}/metrics`, { headers: key })).status).toBe(404);
    expect((await fetch(`${origin}/metrics`)).status).toBe(401);
    const metrics = await fetch(metricsUrl);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toMatch(/gateway_http_request_duration_seconds_count\{method="POST",status="401"\} 3/);
    expect((await fetch(metricsUrl.replace('/metrics', '/graphql'))).status).toBe(404);

    // /ready needs no credentials.
    expect((await fetch(`${origin}/ready`)).status).toBe(200);

    // CORS: the listed origin only, without credentials.
    const typename = JSON.stringify({ query: '{ __typename }' });
    const allowed = await post(url, typename, { ...key, origin: 'https://app.example' });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(allowed.headers.get('access-control-allow-credentials')).toBeNull();
    const other = await post(url, typename, { ...key, origin: 'https://evil.example' });
    expect(other.status).toBe(200);
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  }, 30_000);
});
