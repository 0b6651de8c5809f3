import type { Clock } from '../platform/clock.ts';
import type { UpstreamLimits } from '../platform/upstream-limits.ts';

export type SandboxEndpoint =
  | 'token'
  | 'balance'
  | 'sims'
  | 'sim'
  | 'usage'
  | 'topups'
  | 'packages'
  | 'submitTopup'
  | 'orders'
  | 'order'
  | 'notificationOptIn'
  | 'notificationSettings'
  | 'notificationOptOut'
  | 'simulatorWebhook';

export type SandboxFlavour = 'pressone' | 'airalo';

export type SimStatus = 'NOT_ACTIVE' | 'ACTIVE' | 'FINISHED' | 'EXPIRED' | 'RECYCLED' | 'UNKNOWN';

export interface CallRecord {
  endpoint: SandboxEndpoint;
  flavour: SandboxFlavour;
  method: string;
  iccid: string | null;
  /** What was sent; 0 when the request hung or the connection was reset. */
  status: number;
  at: number;
  /** The W3C trace context the caller sent, if any (a tracing gateway propagates it). */
  traceparent?: string;
}

export type CallFilter = Partial<Pick<CallRecord, 'endpoint' | 'iccid' | 'status' | 'flavour' | 'method'>>;

export interface FaultRule {
  /** undefined = every endpoint */
  endpoint?: SandboxEndpoint;
  /** undefined = every ICCID */
  iccid?: string;
  latencyMs?: number;
  jitterMs?: number;
  errorStatus?: 500 | 502 | 503 | 504;
  /** 0..1, default 1 when errorStatus is given; drawn from a seeded PRNG. */
  errorRate?: number;
  /** Never answer (until the sandbox closes). */
  hang?: boolean;
  reset?: 'after-headers' | 'mid-body';
  malformedJson?: boolean;
  /** The real status with a well-formed JSON body whose `data` lacks `id` and `code` (on every item of a list). */
  incompleteBody?: boolean;
  rateLimit?: { retryAfterSeconds: number; asHttpDate?: boolean };
  /** Answer this 4xx with this JSON body (e.g. an undocumented 422), instead of processing unless `afterProcessing`. */
  rejectWith?: { status: number; body: unknown };
  /**
   * Pad the processed answer with trailing whitespace (still valid JSON) to `bytes` in total, streamed with
   * backpressure until the client hangs up; with Content-Length unless `chunked`. "A 150 MB balance answer".
   */
  oversizeBody?: { bytes: number; chunked?: boolean };
  /** Send the processed answer `bytesPerTick` bytes (default 1) every `intervalMs`: slow, finite, never idle long. */
  trickleBody?: { intervalMs: number; bytesPerTick?: number };
  /** Answer 200 with an empty `balances` list (the prose's "no account" case): the entry is missing, not zero. */
  emptyBalances?: boolean;
  /**
   * Apply this rule after the request was processed: its effect is real (a submitted top-up is ordered and paid for),
   * then `latencyMs`/`jitterMs` delay the answer and `hang` / `errorStatus` / `rateLimit` replace it ("processed, then
   * the proxy answered 502 / the connection hung"). Default false: latency delays the processing and those effects
   * answer instead of processing, so nothing happens. `reset`, `malformedJson` and `incompleteBody` always act on the processed answer.
   */
  afterProcessing?: boolean;
  /** Apply to the next N matching requests only; undefined = until cleared. */
  times?: number;
}

export interface SandboxOrder {
  id: number;
  code: string;
  iccid: string;
  packageId: string;
  description: string | null;
  /** USD */
  price: number;
  /** epoch ms on the sandbox clock */
  createdAt: number;
  flavour: SandboxFlavour;
}

export interface IccidFilter {
  status?: SimStatus;
  hasTopups?: boolean;
  unlimited?: boolean;
}

export interface SandboxControl {
  calls(filter?: CallFilter): CallRecord[];
  countCalls(filter?: CallFilter): number;
  resetCalls(): void;
  orders(): SandboxOrder[];
  addFault(rule: FaultRule): string;
  removeFault(id: string): void;
  clearFaults(): void;
  reset(): void;
  iccids(filter?: IccidFilter): string[];
  topupPackageIds(iccid: string): string[];
  balance(): number;
  setBalance(usd: number): void;
  /** Every access token issued so far (for tests that prove tokens never leak into logs). */
  issuedTokens(): string[];
  /** Every token issued so far expires now (a later use answers 401 "expired"): the upstream's side of an expiry. */
  expireTokens(): void;
  /** Uses `mb` of the SIM's data (its next usage read shows it) and delivers the low-data levels it crosses. */
  consumeData(iccid: string, mb: number): void;
  /** Runs the clock-driven notification check now (it also runs every `notificationCheckIntervalMs`). */
  checkNotifications(): void;
  /** The notification settings opted in, by type. */
  notificationSettings(): { type: string; contactPoint: string; levels: number[] | null }[];
  /** Every webhook delivery (body as sent, signature, attempts), oldest first. */
  deliveries(): {
    type: string;
    url: string;
    body: string;
    signature: string;
    attempts: { status: number; sentAt: number }[];
    delivered: boolean;
  }[];
  /** Resolves when every delivery under way has succeeded or given up its retries. */
  deliveriesSettled(): Promise<void>;
  /** The limits each flavour enforces (defaults with the options applied). */
  limits(): Record<SandboxFlavour, UpstreamLimits>;
  /** The 429s the limits answered since the last reset, per flavour and endpoint (`rateLimit` faults not included). */
  limitRefusals(): { flavour: SandboxFlavour; endpoint: SandboxEndpoint; count: number }[];
}

export interface SandboxOptions {
  host?: string;
  port?: number;
  seed?: number;
  simCount?: number;
  clock?: Clock;
  credentials?: { clientId: string; clientSecret: string };
  tokenLifetimeSeconds?: number;
  /**
   * A flavour's limits in full, replacing its defaults (DOCUMENTED_LIMITS in src/platform/upstream-limits.ts: what the
   * upstream's documentation says, per flavour). `{ endpoints: {}, all: [] }` = no limits at all.
   */
  limits?: Partial<Record<SandboxFlavour, UpstreamLimits>>;
  /** Both flavours: the token endpoint's limit, calls per minute per partner (replaces the flavour's). */
  tokenLimitPerMinute?: number;
  /** Both flavours: the per-ICCID usage limit per minute (the per-partner one, Airalo's, stays). */
  usageLimitPerMinute?: number;
  /** Both flavours: one package-history read per ICCID per this many seconds (0 = no per-ICCID limit). */
  historyIntervalSeconds?: number;
  /** Airalo's sandbox mode: every `/v2` call counts against 50 per minute per client_id, on top of the rest. */
  airaloSandboxMode?: boolean;
  usageCacheSeconds?: number;
  notFoundStatus?: 200 | 404;
  initialBalance?: number;
  /** USD; credit-limit notifications measure the balance's use of it. Default: `initialBalance`. */
  creditLimit?: number;
  /** Waits before the retries of a failed webhook delivery; default [1000, 5000, 25000]. */
  webhookRetryDelaysMs?: number[];
  /** How often (real time) the clock-driven notification check runs; default 1000. */
  notificationCheckIntervalMs?: number;
  faults?: FaultRule[];
  logRequests?: boolean;
}

export interface Sandbox {
  /** Origin only, e.g. 'http://127.0.0.1:43123'. */
  url: string;
  close(): Promise<void>;
  control: SandboxControl;
}

/** Options with every default filled in. */
export interface ResolvedSandboxOptions {
  host: string;
  port: number;
  seed: number;
  simCount: number;
  clock: Clock;
  credentials: { clientId: string; clientSecret: string };
  tokenLifetimeSeconds: number;
  /** What each flavour enforces: its defaults or `limits`, then the per-limit options, then the sandbox mode. */
  limits: Record<SandboxFlavour, UpstreamLimits>;
  usageCacheSeconds: number;
  notFoundStatus: 200 | 404;
  initialBalance: number;
  creditLimit: number;
  webhookRetryDelaysMs: number[];
  notificationCheckIntervalMs: number;
  faults: FaultRule[];
  logRequests: boolean;
}

/** What a handler produces; the server writes it (or mangles it, when a fault says so). */
export interface SandboxResponse {
  status: number;
  headers: Record<string, string | number>;
  body: string;
}
