/**
 * Standalone sandbox: `npm run sandbox`. Reads SANDBOX_PORT (4010), SANDBOX_HOST, SANDBOX_SEED, SANDBOX_SIM_COUNT,
 * SANDBOX_LOG=1, SANDBOX_AIRALO_SANDBOX_MODE=true (Airalo's 50 calls per minute per client_id on `/v2`).
 */
import { formatLimitSpec, type UpstreamLimits } from '../platform/upstream-limits.ts';
import { createSandbox } from './server.ts';
import { SANDBOX_CREDENTIALS } from './state.ts';

function intFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) {
    console.error(`${name} must be a non-negative integer, got ${JSON.stringify(raw)}`);
    process.exit(1);
  }
  return value;
}

function boolFromEnv(name: string): boolean {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return false;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  console.error(`${name} must be true or false, got ${JSON.stringify(raw)}`);
  process.exit(1);
}

const sandbox = await createSandbox({
  host: process.env.SANDBOX_HOST || '127.0.0.1',
  port: intFromEnv('SANDBOX_PORT', 4010),
  seed: intFromEnv('SANDBOX_SEED', 42),
  simCount: intFromEnv('SANDBOX_SIM_COUNT', 50),
  logRequests: process.env.SANDBOX_LOG === '1',
  airaloSandboxMode: boolFromEnv('SANDBOX_AIRALO_SANDBOX_MODE'),
});

/** `usage 10/60s per-iccid + 5/1s per-partner; packages …`: what one flavour enforces. */
function limitsLine(limits: UpstreamLimits): string {
  const parts = Object.entries(limits.endpoints).map(
    ([endpoint, list]) => `${endpoint} ${formatLimitSpec(list ?? []).replaceAll(', ', ' + ')}`,
  );
  if (limits.all.length) parts.push(`every endpoint ${formatLimitSpec(limits.all).replaceAll(', ', ' + ')}`);
  return parts.join('; ');
}

const limits = sandbox.control.limits();
console.log(`eSIM upstream sandbox listening on ${sandbox.url}
  PressOne base URL: ${sandbox.url}/customer/v2
  Airalo base URL:   ${sandbox.url}/v2
  client_id:         ${SANDBOX_CREDENTIALS.clientId}
  client_secret:     ${SANDBOX_CREDENTIALS.clientSecret}
  PressOne limits:   ${limitsLine(limits.pressone)}
  Airalo limits:     ${limitsLine(limits.airalo)}
  control API:       ${sandbox.url}/__sandbox/info`);

const shutdown = (): void => {
  sandbox.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
