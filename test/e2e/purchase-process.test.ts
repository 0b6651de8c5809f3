/**
 * The money path at the process edge.
 * 1. A gateway process killed (SIGKILL: no drain, no cleanup) in the middle of a submit, then a retry with the same key
 *    on a new gateway process against the same upstream: exactly one order.
 * 2. SIGTERM while a purchase waits on a slow submit: the drain, derived from the upstream timeouts, outlasts it (the
 *    former fixed 15 s did not), so the client gets its order and the process exits 0.
 * Process level: the standalone sandbox
 * (src/sandbox/main.ts, what `npm run sandbox` runs) and two gateways (src/app/index.ts with UPSTREAM_URL) are child
 * processes; the test talks HTTP to them and steers the sandbox through its control API (`/__sandbox/...`).
 *
 * Why it holds without a persistent store: a key the new process has no record of is searched for before anything is
 * submitted, and the reference is derived from the principal (`partner:<AUTH_API_KEYS name>`) and the key, not from
 * anything the killed process knew.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';
import { SANDBOX_CREDENTIALS } from '../../src/sandbox/index.ts';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** tsx compiles the sources on start: slow on a loaded 2-core box. */
const STARTUP_TIMEOUT_MS = 15_000;
const API_KEY = 'kill-restart-api-key-0123456789';

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

/** Spawns `entry` under tsx and resolves with the child and the first stdout line `found` accepts. */
async function spawnUntil<T>(
  entry: string,
  env: NodeJS.ProcessEnv,
  found: (line: string) => T | undefined,
): Promise<{ child: ChildProcess; value: T }> {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const value = await new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${entry} not ready within ${STARTUP_TIMEOUT_MS} ms; stderr: ${stderr}`)),
      STARTUP_TIMEOUT_MS,
    );
    child.once('exit', (code) => reject(new Error(`${entry} exited during startup (${code}); stderr: ${stderr}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const result = found(line);
      if (result !== undefined) {
        clearTimeout(timer);
        resolve(result);
      }
    });
  });
  return { child, value };
}

function baseEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(env))
    if (/^(UPSTREAM_|AUTH_|SANDBOX_|PORT$|HOST$|LOG_LEVEL$)/.test(name)) delete env[name];
  return env;
}

async function startSandbox(): Promise<string> {
  const { value } = await spawnUntil(
    'src/sandbox/main.ts',
    { ...baseEnv(), SANDBOX_PORT: '0' },
    (line) => line.match(/listening on (http:\/\/\S+)/)?.[1],
  );
  return value;
}

async function startGateway(
  sandboxUrl: string,
  extraEnv: Record<string, string> = {},
): Promise<{ child: ChildProcess; url: string; logs: string[] }> {
  const logs: string[] = [];
  const env = {
    ...baseEnv(),
    PORT: '0',
    LOG_LEVEL: 'info',
    UPSTREAM_URL: `${sandboxUrl}/customer/v2`,
    UPSTREAM_FLAVOR: 'pressone',
    UPSTREAM_CLIENT_ID: SANDBOX_CREDENTIALS.clientId,
    UPSTREAM_CLIENT_SECRET: SANDBOX_CREDENTIALS.clientSecret,
    AUTH_API_KEYS: `backend:${API_KEY}`,
    ...extraEnv,
  };
  const { child, value } = await spawnUntil('src/app/index.ts', env, (line) => {
    logs.push(line);
    try {
      const url = (JSON.parse(line) as { url?: unknown }).url;
      return typeof url === 'string' ? url : undefined;
    } catch {
      return undefined;
    }
  });
  return { child, url: value, logs };
}

async function control<T>(sandboxUrl: string, path: string, init?: { method: string; body?: unknown }): Promise<T> {
  const response = await fetch(`${sandboxUrl}/__sandbox/${path}`, {
    method: init?.method ?? 'GET',
    ...(init?.body !== undefined
      ? { body: JSON.stringify(init.body), headers: { 'content-type': 'application/json' } }
      : {}),
  });
  expect(response.status, `control ${path}`).toBe(200);
  return (await response.json()) as T;
}

const orders = async (sandboxUrl: string) =>
  (await control<{ orders: { id: number; description: string }[] }>(sandboxUrl, 'orders')).orders;

const PURCHASE = `mutation Buy($input: PurchaseTopupInput!) {
  purchaseTopup(input: $input) { __typename ... on PurchaseTopupSuccess { replayed order { id packageId } } ... on Error { code message } }
}`;

function buy(url: string, input: Record<string, string>): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json',
      'x-api-key': API_KEY,
      'x-graphql-csrf': '1',
    },
    body: JSON.stringify({ query: PURCHASE, variables: { input } }),
  });
}

it('SIGKILL during a submit whose order landed, then the same key on a new process → that order, exactly one order and one submit', async () => {
  const sandboxUrl = await startSandbox();
  const [iccid] = (await control<{ iccids: string[] }>(sandboxUrl, 'iccids?status=ACTIVE&hasTopups=true')).iccids;
  const { packageIds } = await control<{ packageIds: string[] }>(sandboxUrl, `topup-package-ids/${iccid}`);
  const packageId = packageIds.find((id) => !/insufficient|maintenance|disabled|out-of-stock/.test(id))!;
  const input = { iccid: iccid!, packageId, idempotencyKey: 'killed-mid-submit', description: 'customer 5' };
  // The upstream places the order, then never answers: the gateway is inside its submit when it is killed.
  await control(sandboxUrl, 'faults', {
    method: 'POST',
    body: { endpoint: 'submitTopup', hang: true, afterProcessing: true, times: 1 },
  });

  const a = await startGateway(sandboxUrl);
  const lost = buy(a.url, input).then(
    () => 'answered',
    () => 'connection lost',
  );
  await expect.poll(async () => (await orders(sandboxUrl)).length, { timeout: 10_000, interval: 20 }).toBe(1);
  const exited = new Promise((resolve) => a.child.once('exit', (_code, signal) => resolve(signal)));
  a.child.kill('SIGKILL');
  expect(await exited).toBe('SIGKILL');
  expect(await lost).toBe('connection lost');

  const b = await startGateway(sandboxUrl);
  const response = await buy(b.url, input);
  const body = (await response.json()) as { data: { purchaseTopup: any } };
  const [order] = await orders(sandboxUrl);
  expect(body.data.purchaseTopup).toMatchObject({
    __typename: 'PurchaseTopupSuccess',
    replayed: true,
    order: { id: String(order!.id), packageId },
  });
  expect(order!.description).toMatch(/^customer 5 \[gw-[0-9a-f]{20}\]$/);
  expect(await orders(sandboxUrl)).toHaveLength(1);
  expect((await control<{ count: number }>(sandboxUrl, 'calls?endpoint=submitTopup')).count).toBe(1);
}, 60_000);

it('SIGTERM while a purchase waits 16 s for its submit (headers timeout 20 s): the drain covers it — the order is answered, exit code 0', async () => {
  const sandboxUrl = await startSandbox();
  const [iccid] = (await control<{ iccids: string[] }>(sandboxUrl, 'iccids?status=ACTIVE&hasTopups=true')).iccids;
  const { packageIds } = await control<{ packageIds: string[] }>(sandboxUrl, `topup-package-ids/${iccid}`);
  const packageId = packageIds.find((id) => !/insufficient|maintenance|disabled|out-of-stock/.test(id))!;
  // Placed at once, answered 16 s later: longer than the former fixed 15 s drain, shorter than the headers timeout.
  await control(sandboxUrl, 'faults', {
    method: 'POST',
    body: { endpoint: 'submitTopup', latencyMs: 16_000, afterProcessing: true, times: 1 },
  });
  const a = await startGateway(sandboxUrl, { UPSTREAM_HEADERS_TIMEOUT_MS: '20000' });
  // drain = 2 × search + submit = 6 × (5 + 20 + 10 s) + 5 s margin
  const drainSeconds = () => a.logs.map((l) => l.match(/"drainSeconds":(\d+)/)?.[1]).find((v) => v !== undefined);
  await expect.poll(drainSeconds, { timeout: 5_000, interval: 20 }).toBe('215');
  const exited = new Promise<number | null>((resolve) => a.child.once('exit', (code) => resolve(code)));
  const answer = buy(a.url, { iccid: iccid!, packageId, idempotencyKey: 'slow-submit' });
  await expect.poll(async () => (await orders(sandboxUrl)).length, { timeout: 10_000, interval: 20 }).toBe(1);
  a.child.kill('SIGTERM');
  const body = (await (await answer).json()) as { data: { purchaseTopup: any } };
  expect(body.data.purchaseTopup).toMatchObject({
    __typename: 'PurchaseTopupSuccess',
    replayed: false,
    order: { packageId },
  });
  expect(await exited).toBe(0);
  expect(await orders(sandboxUrl)).toHaveLength(1);
}, 60_000);
