/**
 * Acceptance 4: the sandbox serves usage reads at ≥ 5,000 req/s with 100k SIMs.
 * The sandbox runs in this process (real clock, Airalo's limits off so the bench measures serving, not 429s);
 * autocannon drives it from a separate process. Run: `cd bench && npm run sandbox-usage`.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createSandbox, SANDBOX_CREDENTIALS } from '../src/sandbox/index.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const SIM_COUNT = 100_000;
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 20);
const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const TARGET = 5_000;

const started = performance.now();
const sandbox = await createSandbox({
  host: '127.0.0.1',
  simCount: SIM_COUNT,
  limits: { airalo: { endpoints: {}, all: [] } }, // reads go to /v2: no 10/min per ICCID, no 5/s per partner
});
const startupMs = Math.round(performance.now() - started);

const tokenRes = await fetch(`${sandbox.url}/v2/token`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({
    client_id: SANDBOX_CREDENTIALS.clientId,
    client_secret: SANDBOX_CREDENTIALS.clientSecret,
    grant_type: 'client_credentials',
  }),
});
const token = ((await tokenRes.json()) as { data: { access_token: string } }).data.access_token;
// spread the load over 20k ICCIDs across the whole data set
const all = sandbox.control.iccids();
const iccids = all.filter((_, i) => i % 5 === 0);

const configFile = path.join(tmpdir(), `sandbox-usage-bench-${process.pid}.json`);
writeFileSync(
  configFile,
  JSON.stringify({ url: sandbox.url, token, iccids, connections: CONNECTIONS, duration: DURATION, base: '/v2' }),
);
const { stdout } = await promisify(execFile)(process.execPath, [path.join(here, 'usage-load.mjs'), configFile], {
  maxBuffer: 10_000_000,
});
const result = JSON.parse(stdout) as {
  requestsPerSecond: number;
  latencyP50: number;
  latencyP99: number;
  total: number;
  non2xx: number;
  errors: number;
  timeouts: number;
};
await sandbox.close();

const verdict = result.requestsPerSecond >= TARGET && result.non2xx === 0 && result.errors === 0 ? 'PASS' : 'FAIL';
const report = `# Sandbox usage-read benchmark

\`cd bench && npm run sandbox-usage\` — ${new Date().toISOString()}, Node ${process.version}, ${(await import('node:os')).cpus().length} cores.

Sandbox in-process with ${SIM_COUNT.toLocaleString('en')} SIMs (startup ${startupMs} ms), real clock, usage limit raised;
autocannon ${CONNECTIONS} connections for ${DURATION} s from a separate process, \`GET /v2/sims/{iccid}/usage\` rotating over ${iccids.length.toLocaleString('en')} ICCIDs.

| req/s (avg) | p50 latency | p99 latency | requests | non-2xx | errors | target |
|---|---|---|---|---|---|---|
| ${Math.round(result.requestsPerSecond).toLocaleString('en')} | ${result.latencyP50} ms | ${result.latencyP99} ms | ${result.total.toLocaleString('en')} | ${result.non2xx} | ${result.errors} | ≥ ${TARGET.toLocaleString('en')} req/s: **${verdict}** |
`;
mkdirSync(path.join(here, 'results'), { recursive: true });
writeFileSync(path.join(here, 'results', 'sandbox-usage.md'), report);
console.log(report);
process.exit(verdict === 'PASS' ? 0 : 1);
