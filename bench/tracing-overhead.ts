/**
 * What tracing costs: the warm 25-SIM `Screen` query (scenario 1's, usage + top-ups + history) executed through
 * `yoga.fetch` — the GraphQL pipeline the tracing plugin instruments; response cache off, so every request executes —
 * by 8 concurrent in-process clients, in three variants, each in its own process (tracing's hooks are per process):
 *
 *   off       tracing not configured (the default): no plugin, no provider
 *   on        tracing on, every request sampled, spans to an in-memory exporter (the SDK's whole cost but the network)
 *   on-10%    the same with OTEL_TRACES_SAMPLER=traceidratio, OTEL_TRACES_SAMPLER_ARG=0.1
 *   baseline  the same code without tracing at all (`--baseline <dir>`: a checkout of the commit before it)
 *
 * Run: `npx tsx bench/tracing-overhead.ts [--baseline /tmp/otel-base] [--seconds 3] [--rounds 3]` (about 1 min).
 * Variants alternate round by round; the median req/s and CPU time per request (steadier on a shared machine) of
 * each are reported.
 */

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SCREEN_QUERY } from './lib/queries.ts';

const args = process.argv.slice(2);
const arg = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const seconds = Number(arg('seconds') ?? 3);
const rounds = Number(arg('rounds') ?? 3);
const baseline = arg('baseline');
const variant = arg('variant');

if (variant) await child(variant, arg('src')!);
else parent();

function parent(): void {
  const self = fileURLToPath(import.meta.url);
  const src = fileURLToPath(new URL('../src', import.meta.url));
  const variants: [string, string][] = [
    ['off', src],
    ['on', src],
    ['on-10%', src],
    ...(baseline ? ([['baseline', `${baseline}/src`]] as [string, string][]) : []),
  ];
  const results = new Map<string, number[]>();
  const cpuResults = new Map<string, number[]>();
  for (let round = 0; round < rounds; round++) {
    for (const [name, dir] of variants) {
      const run = spawnSync(
        process.execPath,
        [...process.execArgv, self, '--variant', name, '--src', dir, '--seconds', String(seconds)],
        { encoding: 'utf8' },
      );
      if (run.status !== 0) throw new Error(`${name} failed: ${run.stderr}`);
      const { rps, cpuUsPerRequest, spansPerRequest } = JSON.parse(run.stdout.trim().split('\n').pop()!) as {
        rps: number;
        cpuUsPerRequest: number;
        spansPerRequest: number;
      };
      console.log(
        `round ${round + 1} ${name}: ${rps.toFixed(0)} req/s, ${cpuUsPerRequest.toFixed(0)} µs CPU/request${spansPerRequest ? `, ${spansPerRequest.toFixed(1)} spans/request` : ''}`,
      );
      results.set(name, [...(results.get(name) ?? []), rps]);
      cpuResults.set(name, [...(cpuResults.get(name) ?? []), cpuUsPerRequest]);
    }
  }
  const median = (xs: number[]) => {
    const sorted = [...xs].sort((a, b) => a - b);
    const mid = sorted.length / 2;
    return Number.isInteger(mid) ? (sorted[mid - 1]! + sorted[mid]!) / 2 : sorted[Math.floor(mid)]!;
  };
  const off = median(results.get('off')!);
  const offCpu = median(cpuResults.get('off')!);
  console.log('\n| variant | req/s (median) | vs off | CPU µs/request (median) | vs off |\n|---|---:|---:|---:|---:|');
  for (const [name, xs] of results) {
    const cpu = median(cpuResults.get(name)!);
    console.log(
      `| ${name} | ${median(xs).toFixed(0)} | ${(median(xs) / off).toFixed(2)}× | ${cpu.toFixed(0)} | ${(cpu / offCpu).toFixed(2)}× |`,
    );
  }
}

async function child(name: string, src: string): Promise<void> {
  // A baseline checkout may predate the src/app, src/platform layout: take whichever path exists.
  const at = (now: string, before: string) => (existsSync(`${src}/${now}`) ? `${src}/${now}` : `${src}/${before}`);
  const { createSandbox } = (await import(`${src}/sandbox/index.ts`)) as typeof import('../src/sandbox/index.ts');
  const { loadConfig } = (await import(
    at('platform/config.ts', 'config.ts')
  )) as typeof import('../src/platform/config.ts');
  const { createGateway } = (await import(
    at('app/gateway.ts', 'gateway.ts')
  )) as typeof import('../src/app/gateway.ts');
  const { createLogger } = (await import(
    at('platform/logger.ts', 'logger.ts')
  )) as typeof import('../src/platform/logger.ts');
  const credentials = { clientId: 'bench-client', clientSecret: 'bench-secret' };
  const sandbox = await createSandbox({ seed: 42, simCount: 200, credentials });
  const exporter = name.startsWith('on')
    ? new (await import('@opentelemetry/sdk-trace')).InMemorySpanExporter()
    : undefined;
  const gateway = createGateway({
    config: loadConfig({
      LOG_LEVEL: 'silent',
      RESPONSE_CACHE: 'false',
      ...(name === 'on-10%' ? { OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.1' } : {}),
    }),
    logger: createLogger('silent'),
    upstream: { url: `${sandbox.url}/customer/v2`, flavour: 'pressone', ...credentials },
    ...(exporter ? { spanExporter: exporter } : {}),
  });
  const iccids = sandbox.control.iccids({ status: 'ACTIVE' }).slice(0, 25);
  const body = JSON.stringify({ operationName: 'Screen', query: SCREEN_QUERY, variables: { iccids } });
  const once = async () => {
    const response = await gateway.yoga.fetch('http://gateway/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    const text = await response.text();
    if (response.status !== 200 || text.includes('"errors"')) throw new Error(`bad answer: ${text.slice(0, 300)}`);
  };
  const load = async (ms: number) => {
    let count = 0;
    let spans = 0;
    const end = performance.now() + ms;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (performance.now() < end) {
          await once();
          count++;
          if (exporter && count % 200 === 0) {
            spans += exporter.getFinishedSpans().length;
            exporter.reset();
          }
        }
      }),
    );
    spans += exporter?.getFinishedSpans().length ?? 0;
    exporter?.reset();
    return { count, spans };
  };
  await once(); // cold: fills the caches
  await load(1_000); // warm-up: JIT, compiled queries
  const started = performance.now();
  const cpu = process.cpuUsage();
  const { count, spans } = await load(seconds * 1_000);
  const elapsed = (performance.now() - started) / 1000;
  const { user, system } = process.cpuUsage(cpu);
  await gateway.close();
  await sandbox.close();
  console.log(
    JSON.stringify({
      variant: name,
      requests: count,
      rps: count / elapsed,
      cpuUsPerRequest: (user + system) / count,
      spansPerRequest: spans / count,
    }),
  );
}
