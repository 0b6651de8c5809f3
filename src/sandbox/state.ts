/** All mutable sandbox state, and the defaults of every option. */
import { randomBytes } from 'node:crypto';
import { systemClock } from '../platform/clock.ts';
import {
  AIRALO_SANDBOX_MODE_LIMIT,
  DOCUMENTED_LIMITS,
  type RateLimit,
  type UpstreamLimits,
} from '../platform/upstream-limits.ts';
import { type DataSet, generateDataSet, type Purchase } from './data.ts';
import { FaultRegistry } from './faults.ts';
import { FixedWindowLimiter, SandboxLimits, UsageSnapshotCache } from './limits.ts';
import { NotificationCenter } from './notifications.ts';
import type { CallFilter, CallRecord, ResolvedSandboxOptions, SandboxFlavour, SandboxOptions } from './types.ts';

/** The sandbox's partner credentials unless `SandboxOptions.credentials` says otherwise; the one definition of them. */
export const SANDBOX_CREDENTIALS: Readonly<{ clientId: string; clientSecret: string }> = Object.freeze({
  clientId: 'sandbox-client-id',
  clientSecret: 'sandbox-client-secret',
});
/** Bounded so a long-running standalone sandbox does not grow without end. */
const MAX_CALL_RECORDS = 500_000;

export function resolveOptions(options: SandboxOptions = {}): ResolvedSandboxOptions {
  return {
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 0,
    seed: options.seed ?? 42,
    simCount: options.simCount ?? 50,
    clock: options.clock ?? systemClock,
    credentials: options.credentials ?? SANDBOX_CREDENTIALS,
    tokenLifetimeSeconds: options.tokenLifetimeSeconds ?? 31_622_400,
    limits: { pressone: resolveLimits('pressone', options), airalo: resolveLimits('airalo', options) },
    usageCacheSeconds: options.usageCacheSeconds ?? 1200,
    notFoundStatus: options.notFoundStatus ?? 404,
    initialBalance: options.initialBalance ?? 5000,
    creditLimit: options.creditLimit ?? options.initialBalance ?? 5000,
    webhookRetryDelaysMs: options.webhookRetryDelaysMs ?? [1_000, 5_000, 25_000],
    notificationCheckIntervalMs: options.notificationCheckIntervalMs ?? 1_000,
    faults: options.faults ?? [],
    logRequests: options.logRequests ?? false,
  };
}

/**
 * One flavour's enforced limits: `options.limits[flavour]` or the upstream's documented defaults; then the per-limit
 * options, which keep their old meaning on both flavours (each replaces the matching limit, the others stay); then
 * Airalo's sandbox mode on `/v2`.
 */
function resolveLimits(flavour: SandboxFlavour, options: SandboxOptions): UpstreamLimits {
  const base = options.limits?.[flavour] ?? DOCUMENTED_LIMITS[flavour];
  const endpoints: UpstreamLimits['endpoints'] = { ...base.endpoints };
  const perMinute = (limit: number, scope: RateLimit['scope']): RateLimit => ({ limit, windowMs: 60_000, scope });
  const setPerIccid = (endpoint: 'usage' | 'packages', limit: RateLimit | undefined) => {
    const others = (endpoints[endpoint] ?? []).filter((l) => l.scope !== 'per-iccid');
    endpoints[endpoint] = limit ? [limit, ...others] : others;
  };
  if (options.tokenLimitPerMinute !== undefined)
    endpoints.token = [perMinute(options.tokenLimitPerMinute, 'per-partner')];
  if (options.usageLimitPerMinute !== undefined)
    setPerIccid('usage', perMinute(options.usageLimitPerMinute, 'per-iccid'));
  if (options.historyIntervalSeconds !== undefined) {
    const windowMs = options.historyIntervalSeconds * 1000;
    setPerIccid('packages', windowMs > 0 ? { limit: 1, windowMs, scope: 'per-iccid' } : undefined);
  }
  const sandboxMode = flavour === 'airalo' && options.airaloSandboxMode === true;
  return { endpoints, all: sandboxMode ? [...base.all, AIRALO_SANDBOX_MODE_LIMIT] : [...base.all] };
}

export class SandboxState {
  readonly clock;
  data!: DataSet;
  balanceCents = 0;
  /** Top-ups submitted through the API, oldest first. */
  submitted: Array<{ order: Purchase; flavour: SandboxFlavour }> = [];
  readonly tokens = new Map<string, number>();
  /** The upstream's rate limits, per flavour (options.limits). */
  readonly limits: SandboxLimits;
  readonly usageCache: UsageSnapshotCache;
  /** The webhook simulator's documented limit: 1 request per 15 minutes per IP. */
  readonly simulatorLimiter: FixedWindowLimiter;
  readonly notifications: NotificationCenter;
  readonly faults: FaultRegistry;
  callLog: CallRecord[] = [];

  constructor(readonly options: ResolvedSandboxOptions) {
    this.clock = options.clock;
    this.limits = new SandboxLimits(this.clock, options.limits);
    this.usageCache = new UsageSnapshotCache(this.clock, options.usageCacheSeconds * 1000);
    this.simulatorLimiter = new FixedWindowLimiter(this.clock, 1, 15 * 60_000);
    this.notifications = new NotificationCenter(this);
    this.faults = new FaultRegistry(this.clock, options.seed);
    this.reset();
  }

  /** Data, balance, orders, limits, calls and faults back to the seeded state. Tokens stay valid. */
  reset(): void {
    this.data = generateDataSet(this.options.seed, this.options.simCount, this.clock.now());
    this.balanceCents = Math.round(this.options.initialBalance * 100);
    this.submitted = [];
    this.limits.clear();
    this.usageCache.clear();
    this.simulatorLimiter.clear();
    this.notifications.reset();
    this.callLog = [];
    this.faults.clear();
    for (const rule of this.options.faults) this.faults.add(rule);
  }

  issueToken(): { token: string; expiresIn: number } {
    const token = randomBytes(32).toString('hex');
    this.tokens.set(token, this.clock.now() + this.options.tokenLifetimeSeconds * 1000);
    return { token, expiresIn: this.options.tokenLifetimeSeconds };
  }

  /** 'ok', or why the bearer token is refused. */
  checkBearer(authorization: string | undefined): 'ok' | 'missing' | 'invalid' | 'expired' {
    if (authorization === undefined || !authorization.startsWith('Bearer ')) return 'missing';
    const expiresAt = this.tokens.get(authorization.slice(7).trim());
    if (expiresAt === undefined) return 'invalid';
    return this.clock.now() >= expiresAt ? 'expired' : 'ok';
  }

  record(call: CallRecord): void {
    if (this.callLog.length >= MAX_CALL_RECORDS) this.callLog.splice(0, MAX_CALL_RECORDS / 2);
    this.callLog.push(call);
  }

  calls(filter: CallFilter = {}): CallRecord[] {
    return this.callLog.filter(
      (c) =>
        (filter.endpoint === undefined || c.endpoint === filter.endpoint) &&
        (filter.iccid === undefined || c.iccid === filter.iccid) &&
        (filter.status === undefined || c.status === filter.status) &&
        (filter.flavour === undefined || c.flavour === filter.flavour) &&
        (filter.method === undefined || c.method === filter.method.toUpperCase()),
    );
  }
}
