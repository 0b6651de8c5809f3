/**
 * Live-alert fan-out: N (default 5,000) open GraphQL-over-SSE subscriptions on one gateway process, all watching one
 * SIM's `simAlerts`; then signed webhook deliveries, one at a time, each fanned out to all N streams.
 *
 * Reports the gateway's memory per open subscription (heap and RSS growth after a forced GC, divided by N) and the
 * fan-out latency of one event to all — from the moment the webhook POST is sent to each stream's arrival, p50 / p99
 * over every (event, stream) pair, and the time until the last of the N streams had it.
 *
 * The gateway (with the built-in sandbox) runs in this process; the N SSE clients run in a child process (plain
 * node:http, one socket each), so client memory is not counted. Both share the machine's wall clock.
 *
 * Run: `npm --prefix bench run alerts` or `npx tsx bench/alerts-fanout.ts [--subscriptions 5000] [--events 10]`
 * (about a minute). Writes bench/results/2026-11-27-alerts.md (or `--out <file>`).
 */
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

const args = process.argv.slice(2);
const arg = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : fallback;
};
const wall = () => performance.timeOrigin + performance.now();

if (args[0] === 'clients') await clients();
else await main();

/** Child: opens the streams, prints `ready`, then one JSON line of arrival times per event. */
async function clients(): Promise<void> {
  const url = new URL(arg('url', ''));
  const n = Number(arg('subscriptions', '5000'));
  const iccid = arg('iccid', '');
  const agent = new Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY });
  const body = JSON.stringify({
    query: `subscription { simAlerts(iccids: ["${iccid}"]) { iccid level packageName } }`,
  });
  const arrivals = new Map<string, number[]>();
  let open = 0;
  const report = (event: string) => {
    const times = arrivals.get(event)!;
    if (times.length === n) {
      process.stdout.write(`${JSON.stringify({ event, times })}\n`);
      arrivals.delete(event);
    }
  };
  const openOne = (attempt: number): void => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          accept: 'text/event-stream',
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        if (res.statusCode !== 200) throw new Error(`subscription answered ${res.statusCode}`);
        if (++open === n) process.stdout.write('ready\n');
        let buffer = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffer += chunk;
          let end = buffer.indexOf('\n\n');
          while (end !== -1) {
            const message = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            end = buffer.indexOf('\n\n');
            const data = message.split('\n').find((l) => l.startsWith('data: '));
            if (!message.startsWith('event: next') || !data) continue;
            const at = wall();
            const event = (JSON.parse(data.slice(6)) as { data: { simAlerts: { packageName: string } } }).data.simAlerts
              .packageName;
            const times = arrivals.get(event) ?? [];
            arrivals.set(event, times);
            times.push(at);
            report(event);
          }
        });
      },
    );
    // A connection refused or reset while the listener's backlog is full: try again a little later.
    req.on('error', (error) => {
      if (attempt >= 20) throw error;
      setTimeout(() => openOne(attempt + 1), 50 * (attempt + 1));
    });
    req.end(body);
  };
  for (let i = 0; i < n; i++) {
    openOne(0);
    if (i % 100 === 99) await new Promise((resolve) => setTimeout(resolve, 20)); // do not SYN-flood the listener
  }
  await new Promise(() => {}); // until killed
}

async function main(): Promise<void> {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const n = Number(arg('subscriptions', '5000'));
  const events = Number(arg('events', '10'));
  const out = arg('out', fileURLToPath(new URL('./results/2026-11-27-alerts.md', import.meta.url)));

  const { createGateway } = await import('../src/app/gateway.ts');
  const { createHttpHandler } = await import('../src/app/http-handler.ts');
  const { loadConfig } = await import('../src/platform/config.ts');
  const { createLogger } = await import('../src/platform/logger.ts');
  const { createSandbox, SANDBOX_CREDENTIALS } = await import('../src/sandbox/index.ts');

  const sandbox = await createSandbox({ credentials: SANDBOX_CREDENTIALS });
  const config = loadConfig({
    LOG_LEVEL: 'silent',
    METRICS: 'false',
    SUBSCRIPTIONS_MAX_PER_PRINCIPAL: String(n),
    SUBSCRIPTIONS_MAX: String(n),
  });
  const gateway = createGateway({
    config,
    logger: createLogger('silent'),
    upstream: { url: `${sandbox.url}/customer/v2`, flavour: 'pressone', ...SANDBOX_CREDENTIALS },
  });
  const server = createServer(createHttpHandler(gateway));
  server.maxConnections = n + 100;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const iccid = sandbox.control.iccids({ status: 'ACTIVE' })[0]!;

  // Warm: the SIM's details (the subscription's existence check), one subscription opened and closed.
  await fetch(`${origin}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: `{ sim(iccid: "${iccid}") { iccid } }` }),
  });
  gc();
  gc();
  const before = process.memoryUsage();

  const child = spawn(
    process.execPath,
    [
      ...process.execArgv,
      fileURLToPath(import.meta.url),
      'clients',
      '--url',
      `${origin}/graphql`,
      '--subscriptions',
      String(n),
      '--iccid',
      iccid,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const lines = createInterface({ input: child.stdout! });
  const pending: ((line: string) => void)[] = [];
  lines.on('line', (line) => pending.shift()?.(line));
  const nextLine = () => new Promise<string>((resolve) => pending.push(resolve));

  const opening = performance.now();
  if ((await nextLine()) !== 'ready') throw new Error('clients failed');
  while (gateway.alerts.subscriptions.size < n) await new Promise((resolve) => setTimeout(resolve, 10));
  const openSeconds = (performance.now() - opening) / 1000;
  await new Promise((resolve) => setTimeout(resolve, 500));
  gc();
  gc();
  const after = process.memoryUsage();
  const heapPerSub = (after.heapUsed - before.heapUsed) / n;
  const rssPerSub = (after.rss - before.rss) / n;

  const latencies: number[] = [];
  const lastArrivals: number[] = [];
  for (let e = 0; e < events; e++) {
    const body = JSON.stringify({ level: '75%', package_name: `bench-${e}`, remaining_percentage: 25, iccid });
    const signature = createHmac('sha512', SANDBOX_CREDENTIALS.clientSecret).update(body).digest('hex');
    const received = nextLine();
    const sent = wall();
    const response = await fetch(`${origin}/webhooks/airalo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'airalo-signature': signature },
      body,
    });
    if (response.status !== 200) throw new Error(`webhook answered ${response.status}`);
    const { times } = JSON.parse(await received) as { times: number[] };
    for (const t of times) latencies.push(t - sent);
    lastArrivals.push(Math.max(...times) - sent);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  child.kill();
  latencies.sort((a, b) => a - b);
  lastArrivals.sort((a, b) => a - b);
  const pct = (list: number[], p: number) => list[Math.min(list.length - 1, Math.floor((p / 100) * list.length))]!;
  const ms = (v: number) => `${v.toFixed(1)} ms`;
  const kb = (v: number) => `${(v / 1024).toFixed(1)} KB`;

  const report = `# Live alerts: SSE fan-out on one process (${new Date().toISOString().slice(0, 10)})

\`npx tsx bench/alerts-fanout.ts --subscriptions ${n} --events ${events}\` — ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'CPU'}, Node ${process.version}, a machine shared with other work (numbers vary run to run).

Setup: one gateway process (built-in sandbox, response cache on, JIT on) with ${n} open GraphQL-over-SSE subscriptions
\`simAlerts(iccids: [one SIM])\` from a client process (plain node:http, one socket per subscription); then ${events}
signed webhook deliveries, one at a time, each fanned out to all ${n} streams.

| measure | value |
|---|---|
| subscriptions opened | ${n} in ${openSeconds.toFixed(1)} s |
| gateway heap per open subscription (after GC) | ${kb(heapPerSub)} |
| gateway RSS per open subscription | ${kb(rssPerSub)} |
| fan-out latency, webhook POST sent → event on a stream, p50 | ${ms(pct(latencies, 50))} |
| same, p99 | ${ms(pct(latencies, 99))} |
| same, max | ${ms(latencies.at(-1)!)} |
| time until all ${n} streams had the event, median of ${events} | ${ms(pct(lastArrivals, 50))} |
| same, worst of ${events} | ${ms(lastArrivals.at(-1)!)} |

What the memory is: per stream, the HTTP request/response objects and socket, Yoga's SSE ReadableStream, the graphql-js
subscription iterator, and the gateway's own stream (a queue, an idle timer, an index entry per watched SIM). The
latency includes the webhook's own round trip (signature check, dedupe, bus) and serialising the event once per
stream (graphql-js executes the selection for each subscriber).
`;
  writeFileSync(out, report);
  process.stdout.write(report);
  await gateway.close();
  server.closeAllConnections();
  server.close();
  await sandbox.close();
  process.exit(0);
}
