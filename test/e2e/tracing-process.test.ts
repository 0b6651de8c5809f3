/**
 * Tracing at the process edge: the real entry point (src/app/index.ts, built-in sandbox) with OTEL_EXPORTER_OTLP_ENDPOINT
 * pointing at a collector in this test. One request with a `traceparent`, then SIGTERM: the spans buffered by the
 * batch processor reach the collector before the process exits, and the process's log lines carry the trace id.
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { SANDBOX_CREDENTIALS } from '../../src/sandbox/index.ts';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';

it('exports the spans of a request over OTLP/HTTP at shutdown, and logs carry the trace id', async () => {
  const exports: { path: string; body: string }[] = [];
  const collector = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (c: string) => (body += c));
    req.on('end', () => {
      exports.push({ path: req.url ?? '', body });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(env))
    if (/^(UPSTREAM_|AUTH_|SANDBOX_|OTEL_|LOG_FORMAT|METRICS)/.test(name)) delete env[name];
  Object.assign(env, { PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'debug', LOG_FORMAT: 'json', METRICS_PORT: '0' });
  env.OTEL_EXPORTER_OTLP_ENDPOINT = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
  env.OTEL_SERVICE_NAME = 'gateway-e2e';
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/app/index.ts'], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    const logs: Record<string, unknown>[] = [];
    const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('gateway did not start within 12 s')), 12_000);
      createInterface({ input: child.stdout! }).on('line', (text) => {
        let line: Record<string, unknown>;
        try {
          line = JSON.parse(text) as Record<string, unknown>;
        } catch {
          return;
        }
        logs.push(line);
        if (typeof line.msg === 'string' && line.msg.startsWith('gateway listening')) {
          clearTimeout(timer);
          resolve(line.url as string);
        }
      });
    });

    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: `00-${TRACE}-00f067aa0ba902b7-01` },
      body: JSON.stringify({ query: 'query ProcessBalance { balance { available { amount } } }' }),
    });
    expect(response.status).toBe(200);
    await response.text();
    expect(exports).toEqual([]); // batched: nothing sent yet

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    const sent = exports.map((e) => e.body).join('\n');
    expect(exports.every((e) => e.path === '/v1/traces')).toBe(true);
    for (const name of [
      'POST /graphql',
      'query ProcessBalance',
      'Query.balance',
      'upstream balance',
      'upstream token',
      TRACE,
      'gateway-e2e',
    ]) {
      expect(sent).toContain(name);
    }
    expect(sent).not.toContain(SANDBOX_CREDENTIALS.clientSecret);
    const upstreamLines = logs.filter((l) => l.msg === 'upstream call');
    expect(upstreamLines.length).toBe(2);
    for (const line of upstreamLines) expect(line.trace_id).toBe(TRACE);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    await new Promise((resolve) => collector.close(resolve));
  }
}, 30_000);
