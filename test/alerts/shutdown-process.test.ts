/**
 * Graceful shutdown with subscriptions open, at the process level: the real entry (src/app/index.ts, built-in sandbox)
 * runs as a child; an SSE subscription is open when SIGTERM arrives. The stream must end with `event: complete` and
 * the process exit 0 promptly — an open stream must not hold the drain (it would otherwise wait the full drain and
 * exit 1).
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

it('SIGTERM ends open subscription streams with complete, then the process exits 0', async () => {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(env))
    if (/^(UPSTREAM_|AUTH_|SANDBOX_|LOG_FORMAT|METRICS|WEBHOOK_)/.test(name)) delete env[name];
  Object.assign(env, { PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', LOG_FORMAT: 'json', METRICS: 'false' });
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/app/index.ts'], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('gateway did not start within 15 s')), 15_000);
      createInterface({ input: child.stdout! }).on('line', (text) => {
        try {
          const line = JSON.parse(text) as { url?: string };
          if (typeof line.url === 'string') {
            clearTimeout(timer);
            resolve(line.url);
          }
        } catch {}
      });
    });
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ query: 'subscription { simAlerts { iccid } }' }),
    });
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    await reader.read(); // the opening heartbeat: the stream is open
    const signalled = performance.now();
    child.kill('SIGTERM');
    let text = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    expect(text).toContain('event: complete');
    expect(await exited).toBe(0);
    expect(performance.now() - signalled).toBeLessThan(5_000);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}, 30_000);
