/**
 * What `REDIS_URL` costs on the hot paths (README "Running several replicas", target: ≥ 90 % of the in-memory figures
 * in the same run): scenario 1 (the warm 25-SIM screen, 20 connections, throughput) and scenario 3 (one hot SIM, one
 * connection, p50 latency), for `ours` in memory and `ours, Redis`.
 *
 * A single measurement of each on a shared 2-core machine differs by ±30 % from one minute to the next, so both servers
 * run side by side for the whole run and are measured in interleaved rounds, in A-B-B-A order (a drift in machine
 * conditions weighs on both alike); the medians of the rounds are compared, and each round's own ratio is listed.
 * Server CPU per request (from /proc) is reported beside: it is what Redis could add, and it is far steadier than
 * wall-clock figures under contention.
 *
 * Run: `npx tsx bench/redis-overhead.ts [--rounds 6] [--seconds 5] [--write]` (about 2 min per 6 rounds of 5 s);
 * `--write` saves bench/results/<date>-redis-overhead.md.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createSandbox, SANDBOX_CREDENTIALS } from '../src/sandbox/index.ts';
import {
  BENCH_DIR,
  baseEnv,
  type LoadResult,
  type RunningServer,
  runLoad,
  startRedis,
  startServer,
} from './lib/processes.ts';
import { API_KEY, body, check } from './lib/queries.ts';

const args = process.argv.slice(2);
const arg = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const ROUNDS = Number(arg('rounds') ?? 6);
const SECONDS = Number(arg('seconds') ?? 5);
const WRITE = args.includes('--write');

const ROOT = path.join(BENCH_DIR, '..');
const build = spawnSync('npm', ['run', 'build'], { cwd: ROOT, encoding: 'utf8' });
if (build.status !== 0) throw new Error(`npm run build failed:\n${build.stdout}\n${build.stderr}`);
const NODE_FLAGS: string[] = (
  JSON.parse(
    spawnSync('node', ['-p', 'JSON.stringify(require("../package.json").config)'], {
      cwd: BENCH_DIR,
    }).stdout.toString(),
  )?.nodeFlags ?? ''
)
  .split(' ')
  .filter(Boolean);

const started = new Date();
// One sandbox per server, seeded alike: the upstream lets a SIM's history be read once per 15 minutes, so two servers
// on one sandbox would not both see the same answers.
const sandboxes = [
  await createSandbox({ host: '127.0.0.1', simCount: 10_000, credentials: SANDBOX_CREDENTIALS }),
  await createSandbox({ host: '127.0.0.1', simCount: 10_000, credentials: SANDBOX_CREDENTIALS }),
];
const redis = await startRedis();
const active = sandboxes[0]!.control.iccids({ status: 'ACTIVE' });
if (sandboxes[1]!.control.iccids({ status: 'ACTIVE' })[0] !== active[0]) throw new Error('the sandboxes differ');
const screen = body({ name: 'Screen', iccids: active.slice(0, 25) }, 'graphql');
const hot = body({ name: 'SimUsage', iccid: active[0]! }, 'graphql');

const env = (sandboxUrl: string, extra: Record<string, string>) => ({
  ...baseEnv(),
  UPSTREAM_URL: `${sandboxUrl}/customer/v2`,
  UPSTREAM_CLIENT_ID: SANDBOX_CREDENTIALS.clientId,
  UPSTREAM_CLIENT_SECRET: SANDBOX_CREDENTIALS.clientSecret,
  PORT: '0',
  HOST: '127.0.0.1',
  LOG_LEVEL: 'error',
  GRAPHIQL: 'false',
  AUTH_API_KEYS: `bench:${API_KEY}`,
  ...extra,
});
const variants = [
  { name: 'ours', env: env(sandboxes[0]!.url, {}) },
  { name: 'ours, Redis', env: env(sandboxes[1]!.url, { REDIS_URL: redis.url }) },
] as const;

const servers: RunningServer[] = [];
for (const v of variants)
  servers.push(await startServer({ name: v.name, args: ['servers/ours.mjs'], env: v.env, extraNodeFlags: NODE_FLAGS }));

async function post(server: RunningServer, text: string): Promise<string> {
  const res = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': API_KEY },
    body: text,
  });
  return res.text();
}

interface Sample {
  s1Rps: number;
  s1CpuUs: number;
  s3P50: number;
  s3P99: number;
  s3CpuUs: number;
}
const samples: Sample[][] = variants.map(() => []);

try {
  // Warm both: the answers must be complete (a Redis variant answering errors would be "fast" for nothing).
  for (const server of servers) {
    for (const [op, text] of [
      [{ name: 'Screen', iccids: active.slice(0, 25) }, screen],
      [{ name: 'SimUsage', iccid: active[0]! }, hot],
    ] as const) {
      const answer = await post(server, text);
      const problem = check(op, 'graphql', answer);
      if (problem) throw new Error(`${server.name}: ${problem}`);
    }
    await runLoad({
      mode: 'autocannon',
      url: server.url,
      connections: 20,
      duration: 2,
      groups: [{ weight: 1, bodies: [screen] }],
    });
    await runLoad({ mode: 'sequential', url: server.url, duration: 2, groups: [{ weight: 1, bodies: [hot] }] });
  }
  for (const sandbox of sandboxes) sandbox.control.resetCalls();

  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? [0, 1] : [1, 0];
    for (const i of order) {
      const server = servers[i]!;
      let cpu0 = server.cpuMs();
      const s1: LoadResult = await runLoad({
        mode: 'autocannon',
        url: server.url,
        connections: 20,
        duration: SECONDS,
        groups: [{ weight: 1, bodies: [screen] }],
      });
      const s1Cpu = server.cpuMs() - cpu0;
      cpu0 = server.cpuMs();
      const s3: LoadResult = await runLoad({
        mode: 'sequential',
        url: server.url,
        duration: SECONDS,
        groups: [{ weight: 1, bodies: [hot] }],
      });
      const s3Cpu = server.cpuMs() - cpu0;
      if (s1.non2xx + s1.socketErrors + s3.non2xx + (s3.gqlErrors ?? 0) > 0)
        throw new Error(`${server.name}: errors under load`);
      const sample = {
        s1Rps: s1.requestsPerSecond,
        s1CpuUs: (1000 * s1Cpu) / s1.total,
        s3P50: s3.latencyP50,
        s3P99: s3.latencyP99,
        s3CpuUs: (1000 * s3Cpu) / s3.total,
      };
      samples[i]!.push(sample);
      console.log(
        `round ${round + 1} ${server.name}: s1 ${sample.s1Rps.toFixed(0)} req/s (${sample.s1CpuUs.toFixed(0)} µs CPU/req), s3 p50 ${sample.s3P50.toFixed(3)} ms (${sample.s3CpuUs.toFixed(0)} µs CPU/req)`,
      );
    }
  }
  const upstreamCalls = sandboxes.map((sandbox) => sandbox.control.countCalls()).join(' and ');

  const median = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    const m = s.length >> 1;
    return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
  };
  const med = (i: number, k: keyof Sample) => median(samples[i]!.map((s) => s[k]));
  const s1Share = (100 * med(1, 's1Rps')) / med(0, 's1Rps');
  const s3Share = (100 * med(0, 's3P50')) / med(1, 's3P50');
  const roundS1 = samples[0]!.map((m, r) => (100 * samples[1]![r]!.s1Rps) / m.s1Rps);
  const roundS3 = samples[0]!.map((m, r) => (100 * m.s3P50) / samples[1]![r]!.s3P50);
  const verdict = (ok: boolean) => (ok ? '**met**' : '**missed**');
  const fmt = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

  const lines = [
    `# REDIS_URL on the hot paths — ${started.toISOString().slice(0, 10)}`,
    '',
    `Machine: Node ${process.version} · ${os.cpus().length} × ${os.cpus()[0]?.model.trim()} · Linux ${os.release()}. Run: \`npx tsx bench/redis-overhead.ts --rounds ${ROUNDS} --seconds ${SECONDS}\`, started ${started.toISOString()}.`,
    `Both servers (the compiled \`dist/\` as \`npm start\` runs it, node flags \`${NODE_FLAGS.join(' ')}\`) run side by side for the whole run, each against its own in-process sandbox (seeded alike); \`ours, Redis\` has REDIS_URL set to a redis-server of the run's own. ${ROUNDS} interleaved rounds (A-B, B-A, …) of ${SECONDS} s per scenario and server; response cache on (the shipped default). Upstream calls during the measured rounds: ${upstreamCalls}.`,
    '',
    '| server | s1 req/s (median) | s1 server CPU µs/req | s3 p50 ms (median) | s3 p99 ms (median) | s3 server CPU µs/req |',
    '|---|---:|---:|---:|---:|---:|',
    ...variants.map(
      (v, i) =>
        `| ${v.name} | ${fmt(med(i, 's1Rps'))} | ${fmt(med(i, 's1CpuUs'))} | ${fmt(med(i, 's3P50'), 3)} | ${fmt(med(i, 's3P99'), 3)} | ${fmt(med(i, 's3CpuUs'))} |`,
    ),
    '',
    `Per round, \`ours, Redis\` as a share of \`ours\`: scenario 1 throughput ${roundS1.map((x) => `${x.toFixed(0)} %`).join(', ')}; scenario 3 p50 ${roundS3.map((x) => `${x.toFixed(0)} %`).join(', ')}.`,
    '',
    '### Targets',
    '',
    `- Scenario 1, ours, Redis: median ${fmt(med(1, 's1Rps'))} req/s = ${s1Share.toFixed(1)} % of ours's median in the same run (≥ 90 %: ${verdict(s1Share >= 90)}).`,
    `- Scenario 3, ours, Redis: median p50 ${fmt(med(1, 's3P50'), 3)} ms = ${s3Share.toFixed(1)} % of ours's (≥ 90 %: ${verdict(s3Share >= 90)}).`,
    '',
  ];
  console.log(lines.join('\n'));
  if (WRITE) {
    const file = path.join(BENCH_DIR, 'results', `${started.toISOString().slice(0, 10)}-redis-overhead.md`);
    writeFileSync(file, lines.join('\n'));
    console.log(`written ${path.relative(ROOT, file)}`);
  }
} finally {
  for (const server of servers) await server.stop();
  await redis.stop();
  for (const sandbox of sandboxes) await sandbox.close();
}
process.exit(0);
