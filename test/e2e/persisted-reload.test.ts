/**
 * Manifest reload at the process edge: the real entry point (src/app/index.ts, built-in sandbox) with PERSISTED_DOCUMENTS
 * pointing at a directory; SIGHUP re-reads it. A new manifest's ids answer after the signal, a broken one is refused
 * (logged) and the loaded set keeps answering, and the process keeps serving throughout.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const STARTUP_TIMEOUT_MS = 15_000;

let child: ChildProcess | undefined;
let dir: string | undefined;
afterEach(async () => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  if (dir) await rm(dir, { recursive: true, force: true });
  child = dir = undefined;
});

const BALANCE = '{ balance { available { currency } } }';
const SIMS = '{ simList(first: 1) { totalCount } }';
const id = (document: string) => `sha256:${createHash('sha256').update(document).digest('hex')}`;

it('SIGHUP reloads the manifests; a broken set is refused and the current one kept', { timeout: 30_000 }, async () => {
  dir = await mkdtemp(join(tmpdir(), 'persisted-e2e-'));
  await writeFile(join(dir, 'a.json'), JSON.stringify({ [id(BALANCE)]: BALANCE }));
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(env))
    if (/^(UPSTREAM_|AUTH_|SANDBOX_|PERSISTED_|LOG_FORMAT|METRICS)/.test(name)) delete env[name];
  Object.assign(env, {
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    LOG_FORMAT: 'json',
    METRICS: 'false',
    PERSISTED_DOCUMENTS: dir,
    PERSISTED_DOCUMENTS_ONLY: 'true',
  });
  child = spawn(process.execPath, ['--import', 'tsx', 'src/app/index.ts'], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const messages: { msg: string; url?: string }[] = [];
  const waiters: (() => void)[] = [];
  createInterface({ input: child.stdout! }).on('line', (text) => {
    try {
      messages.push(JSON.parse(text) as { msg: string });
    } catch {
      return;
    }
    for (const wake of waiters.splice(0)) wake();
  });
  const waitFor = async (prefix: string, timeoutMs = STARTUP_TIMEOUT_MS) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line = messages.find((m) => m.msg.startsWith(prefix));
      if (line) return line;
      if (Date.now() > deadline) throw new Error(`no log "${prefix}": ${JSON.stringify(messages)}`);
      await new Promise<void>((resolve) => {
        waiters.push(resolve);
        setTimeout(resolve, 200);
      });
    }
  };
  const url = (await waitFor('gateway listening')).url!;
  const post = async (body: unknown) => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as { data?: any; errors?: any[] } };
  };

  expect((await post({ documentId: id(BALANCE) })).body.data.balance.available.currency).toBe('USD');
  expect((await post({ documentId: id(SIMS) })).status).toBe(400);
  expect((await post({ query: SIMS })).status).toBe(403);

  await writeFile(join(dir, 'b.json'), JSON.stringify({ [id(SIMS)]: SIMS }));
  child.kill('SIGHUP');
  await waitFor('persisted documents reloaded');
  expect((await post({ documentId: id(SIMS) })).body.data.simList.totalCount).toBeGreaterThan(0);

  await writeFile(join(dir, 'c.json'), JSON.stringify({ [id(SIMS)]: '{ balance { stale } }' }));
  child.kill('SIGHUP');
  await waitFor('persisted documents reload refused');
  expect((await post({ documentId: id(SIMS) })).status).toBe(200);
  expect((await post({ documentId: id(BALANCE) })).status).toBe(200);
});
