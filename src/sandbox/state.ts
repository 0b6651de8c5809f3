/** All mutable sandbox state, and the defaults of every option. */
import { randomBytes } from 'node:crypto';
import { systemClock } from '../platform/clock.ts';
import { type DataSet, generateDataSet, type Purchase } from './data.ts';
import { FaultRegistry } from './faults.ts';
import { FixedWindowLimiter, UsageSnapshotCache } from './limits.ts';
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
    tokenLimitPerMinute: options.tokenLimitPerMinute ?? 5,
    usageCacheSeconds: options.usageCacheSeconds ?? 1200,
    usageLimitPerMinute: options.usageLimitPerMinute ?? 100,
    historyIntervalSeconds: options.historyIntervalSeconds ?? 900,
    notFoundStatus: options.notFoundStatus ?? 404,
    initialBalance: options.initialBalance ?? 5000,
    creditLimit: options.creditLimit ?? options.initialBalance ?? 5000,
    webhookRetryDelaysMs: options.webhookRetryDelaysMs ?? [1_000, 5_000, 25_000],
    notificationCheckIntervalMs: options.notificationCheckIntervalMs ?? 1_000,
    faults: options.faults ?? [],
    logRequests: options.logRequests ?? false,
  };
}

export class SandboxState {
  readonly clock;
  data!: DataSet;
  balanceCents = 0;
  /** Top-ups submitted through the API, oldest first. */
  submitted: Array<{ order: Purchase; flavour: SandboxFlavour }> = [];
  readonly tokens = new Map<string, number>();
  readonly tokenLimiter: FixedWindowLimiter;
  readonly usageLimiter: FixedWindowLimiter;
  readonly historyLimiter: FixedWindowLimiter;
  readonly usageCache: UsageSnapshotCache;
  /** The webhook simulator's documented limit: 1 request per 15 minutes per IP. */
  readonly simulatorLimiter: FixedWindowLimiter;
  readonly notifications: NotificationCenter;
  readonly faults: FaultRegistry;
  callLog: CallRecord[] = [];

  constructor(readonly options: ResolvedSandboxOptions) {
    this.clock = options.clock;
    this.tokenLimiter = new FixedWindowLimiter(this.clock, options.tokenLimitPerMinute, 60_000);
    this.usageLimiter = new FixedWindowLimiter(this.clock, options.usageLimitPerMinute, 60_000);
    this.historyLimiter = new FixedWindowLimiter(this.clock, 1, options.historyIntervalSeconds * 1000);
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
    this.tokenLimiter.clear();
    this.usageLimiter.clear();
    this.historyLimiter.clear();
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
