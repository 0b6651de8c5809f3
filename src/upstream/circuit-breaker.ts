/**
 * A circuit breaker for the whole upstream: when it is clearly down, calls fail fast instead of each waiting out a
 * timeout (and piling onto an upstream that is trying to recover).
 *
 *   closed     every call goes through; outcomes are counted in a rolling time window. It opens when
 *              `consecutiveFailures` calls in a row failed, or when the window holds ≥ `minimumCalls` calls of which
 *              ≥ `failureRateThreshold` failed.
 *   open       every call is refused without touching the network, for `coolDownMs` on the injected clock.
 *   half-open  exactly one call (the probe) is let through; its success closes the breaker (with a fresh window),
 *              its failure re-opens it for another cool-down. Everything else is refused meanwhile.
 *
 * Only a sick upstream counts as a failure (5xx, timeouts, network errors: the caller decides, see `Permit`). 4xx
 * answers — 404, 422, 429 … — are per-ICCID or business answers from a healthy upstream and count as successes.
 * A call the caller abandoned counts as nothing. Thresholds: README "Configuration" (`UPSTREAM_BREAKER_*`).
 */
import type { Clock } from '../platform/clock.ts';

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface CircuitBreakerOptions {
  /** Share of failed calls in the window at or above which the breaker opens. Default 0.5. */
  failureRateThreshold?: number;
  /** The failure rate is only judged once the window holds at least this many calls. Default 10. */
  minimumCalls?: number;
  /** Length of the rolling window. Default 60 000 ms. */
  windowMs?: number;
  /** This many failures in a row open the breaker whatever the window says. Default 5. */
  consecutiveFailures?: number;
  /** How long the breaker stays open before letting one probe through. Default 30 000 ms. */
  coolDownMs?: number;
}

/** The right to make one call. Settle it exactly once; later settlements are ignored. */
export interface Permit {
  /** The upstream answered (2xx, or a 4xx, which a healthy upstream sends too). */
  success(): void;
  /** The upstream failed: 5xx, timeout, network error. */
  failure(): void;
  /** The outcome says nothing about the upstream (the caller gave up). */
  release(): void;
}

export const breakerDefaults: Required<CircuitBreakerOptions> = {
  failureRateThreshold: 0.5,
  minimumCalls: 10,
  windowMs: 60_000,
  consecutiveFailures: 5,
  coolDownMs: 30_000,
};

/** The window is kept as this many time buckets of counts: memory stays constant whatever the call rate. */
const BUCKETS = 10;

interface Bucket {
  /** Bucket number (`floor(now / bucketMs)`); a slot holding an older number is stale. */
  index: number;
  calls: number;
  failures: number;
}

export class CircuitBreaker {
  readonly #clock: Clock;
  readonly #options: Required<CircuitBreakerOptions>;
  readonly #bucketMs: number;
  readonly #onStateChange: ((state: BreakerState) => void) | undefined;
  readonly #buckets: Bucket[];
  #state: BreakerState = 'closed';
  #openedAt = 0;
  #probeInFlight = false;
  #consecutive = 0;

  constructor(clock: Clock, options: CircuitBreakerOptions = {}, onStateChange?: (state: BreakerState) => void) {
    this.#clock = clock;
    this.#options = { ...breakerDefaults, ...withoutUndefined(options) };
    const { failureRateThreshold, minimumCalls, windowMs, consecutiveFailures, coolDownMs } = this.#options;
    if (!(failureRateThreshold > 0 && failureRateThreshold <= 1))
      throw new RangeError('failureRateThreshold must be within (0, 1]');
    if (!(minimumCalls >= 1)) throw new RangeError('minimumCalls must be ≥ 1');
    if (!(windowMs >= BUCKETS)) throw new RangeError(`windowMs must be ≥ ${BUCKETS}`);
    if (!(consecutiveFailures >= 1)) throw new RangeError('consecutiveFailures must be ≥ 1');
    if (!(coolDownMs >= 0)) throw new RangeError('coolDownMs must be ≥ 0');
    this.#bucketMs = windowMs / BUCKETS;
    this.#buckets = Array.from({ length: BUCKETS }, () => ({ index: -1, calls: 0, failures: 0 }));
    this.#onStateChange = onStateChange;
  }

  /** The current state; an open breaker whose cool-down has passed reports (and becomes) half-open. */
  state(): BreakerState {
    this.#coolDown();
    return this.#state;
  }

  /** A permit for one call, or null when the call must fail fast. */
  tryAcquire(): Permit | null {
    this.#coolDown();
    if (this.#state === 'open') return null;
    if (this.#state === 'half-open') {
      if (this.#probeInFlight) return null;
      this.#probeInFlight = true;
      return this.#permit(true);
    }
    return this.#permit(false);
  }

  #permit(probe: boolean): Permit {
    return new BreakerPermit(this, probe);
  }

  /** A permit's outcome; only BreakerPermit calls it, at most once per permit. */
  settlePermit(probe: boolean, outcome: Outcome): void {
    if (probe) this.#settleProbe(outcome);
    else if (outcome !== 'release') this.#record(outcome === 'failure');
  }

  #settleProbe(outcome: Outcome): void {
    this.#probeInFlight = false;
    if (this.#state !== 'half-open') return;
    if (outcome === 'success') this.#close();
    else if (outcome === 'failure') this.#open();
    // release: still half-open; the next call becomes the probe.
  }

  /** A call admitted while closed. Outcomes that land after the breaker left `closed` no longer matter. */
  #record(failed: boolean): void {
    if (this.#state !== 'closed') return;
    const bucket = this.#currentBucket();
    bucket.calls++;
    if (!failed) {
      this.#consecutive = 0;
      return;
    }
    bucket.failures++;
    this.#consecutive++;
    if (this.#consecutive >= this.#options.consecutiveFailures) {
      this.#open();
      return;
    }
    const { calls, failures } = this.#windowTotals();
    if (calls >= this.#options.minimumCalls && failures / calls >= this.#options.failureRateThreshold) this.#open();
  }

  #currentBucket(): Bucket {
    const index = Math.floor(this.#clock.now() / this.#bucketMs);
    const bucket = this.#buckets[index % BUCKETS]!;
    if (bucket.index !== index) {
      bucket.index = index;
      bucket.calls = 0;
      bucket.failures = 0;
    }
    return bucket;
  }

  #windowTotals(): { calls: number; failures: number } {
    const oldest = Math.floor(this.#clock.now() / this.#bucketMs) - BUCKETS + 1;
    let calls = 0;
    let failures = 0;
    for (const bucket of this.#buckets) {
      if (bucket.index < oldest) continue;
      calls += bucket.calls;
      failures += bucket.failures;
    }
    return { calls, failures };
  }

  #coolDown(): void {
    if (this.#state === 'open' && this.#clock.now() - this.#openedAt >= this.#options.coolDownMs)
      this.#transition('half-open');
  }

  #open(): void {
    this.#openedAt = this.#clock.now();
    this.#transition('open');
  }

  #close(): void {
    this.#consecutive = 0;
    for (const bucket of this.#buckets) bucket.index = -1;
    this.#transition('closed');
  }

  #transition(state: BreakerState): void {
    if (this.#state === state) return;
    this.#state = state;
    try {
      this.#onStateChange?.(state);
    } catch {
      // An observer must never break a call.
    }
  }
}

type Outcome = 'success' | 'failure' | 'release';

/** One call's permit: a small object per upstream call (no closures), settled once. */
class BreakerPermit implements Permit {
  #settled = false;
  constructor(
    private readonly breaker: CircuitBreaker,
    private readonly probe: boolean,
  ) {}
  success(): void {
    this.#settle('success');
  }
  failure(): void {
    this.#settle('failure');
  }
  release(): void {
    this.#settle('release');
  }
  #settle(outcome: Outcome): void {
    if (this.#settled) return;
    this.#settled = true;
    this.breaker.settlePermit(this.probe, outcome);
  }
}

function withoutUndefined<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as Partial<T>;
}
