/**
 * Helpers for the scheduler's end-to-end tests: a harness with explicit upstream limits and several API-key
 * principals, a clock driver that lets every admitted call reach the sandbox before time moves on (so the sandbox's
 * call log carries the admission times), and sliding-window counting over that log.
 */
import type { SchedulerConfig, UpstreamLimits } from '../../src/platform/upstream-limits.ts';
import type { CallRecord, SandboxOptions } from '../../src/sandbox/types.ts';
import { type Harness, startHarness } from '../support/harness.ts';
import { until } from '../support/until.ts';

/** Airalo's newest published limits (the defaults the limits-config branch gives the `airalo` flavour). */
export const AIRALO_LIMITS: UpstreamLimits = {
  endpoints: {
    usage: [
      { limit: 10, windowMs: 60_000, scope: 'per-iccid' },
      { limit: 5, windowMs: 1_000, scope: 'per-partner' },
    ],
    packages: [{ limit: 10, windowMs: 60_000, scope: 'per-iccid' }],
    token: [{ limit: 3, windowMs: 60_000, scope: 'per-partner' }],
  },
  all: [],
};

export const WAITS: SchedulerConfig = { foregroundWaitMs: 1_500, deferredWaitMs: 10_000 };

export const KEYS = {
  alpha: 'alpha-key-0123456789abcdefghijkl',
  beta: 'beta-key-0123456789abcdefghijklm',
  gamma: 'gamma-key-0123456789abcdefghijkl',
} as const;
export type Who = keyof typeof KEYS;
export const as = (who: Who) => ({ 'x-api-key': KEYS[who] });

export async function startScheduled(
  options: {
    limits?: UpstreamLimits;
    waits?: SchedulerConfig;
    env?: Record<string, string>;
    sandbox?: SandboxOptions;
    /** Several gateways on the one sandbox (with `env.REDIS_URL`: a fleet sharing its budgets). */
    replicas?: number;
  } = {},
): Promise<Harness> {
  const h = await startHarness({
    flavour: 'airalo',
    replicas: options.replicas ?? 1,
    env: {
      AUTH_API_KEYS: Object.entries(KEYS)
        .map(([name, key]) => `${name}:${key}`)
        .join(','),
      ...options.env,
    },
    sandbox: { simCount: 150, ...options.sandbox },
    configure: (config) => ({
      ...config,
      upstreamLimits: options.limits ?? AIRALO_LIMITS,
      scheduler: options.waits ?? WAITS,
    }),
  });
  if (options.env?.REDIS_URL) await until(() => h.replicas.every((r) => r.gateway.stores.redis?.state === 'up'));
  return h;
}

/** Over every replica: admissions asked for, attempts admitted, and decisions a fleet-wide store still has to answer. */
function totals(h: Harness): { requests: number; admitted: number; deciding: number } {
  let requests = 0;
  let admitted = 0;
  let deciding = 0;
  for (const r of h.replicas) {
    requests += r.gateway.scheduler.stats.requests;
    admitted += r.gateway.scheduler.stats.admitted;
    deciding += r.gateway.scheduler.deciding;
  }
  return { requests, admitted, deciding };
}

/**
 * Quiet at this clock time: every decision asked of a fleet-wide store has its answer, every admitted attempt has
 * reached the sandbox (which logs it at its clock time, so the log carries admission times), and a full round of the
 * event loop asked the scheduler nothing new.
 */
export async function settle(h: Harness): Promise<void> {
  const quiet = () => {
    const { admitted, deciding } = totals(h);
    return deciding === 0 && h.sandbox.control.countCalls() >= admitted;
  };
  let seen = -1;
  for (let round = 0; round < 100; round++) {
    await until(quiet, 2_000).catch(() => {});
    for (let i = 0; i < 10; i++) await new Promise((resolve) => setImmediate(resolve));
    const { requests, admitted } = totals(h);
    if (requests + admitted === seen && quiet()) return;
    seen = requests + admitted;
  }
}

/** Waits until the scheduler has been asked `count` admissions in all (the queries just sent have arrived). */
export async function arrived(h: Harness, count: number): Promise<void> {
  await until(() => totals(h).requests >= count);
  await settle(h);
}

/** Advances the clock by `ms` in steps of `stepMs`, settling after each. */
export async function advance(h: Harness, ms: number, stepMs = 100): Promise<void> {
  for (let t = 0; t < ms; t += stepMs) {
    h.clock.advance(Math.min(stepMs, ms - t));
    await settle(h);
  }
}

/** Steps the clock until `done` holds (at most `maxMs`). */
export async function driveUntil(h: Harness, done: () => boolean, maxMs = 60_000, stepMs = 100): Promise<void> {
  for (let t = 0; !done(); t += stepMs) {
    if (t > maxMs) throw new Error(`not done after ${maxMs} ms of clock time`);
    h.clock.advance(stepMs);
    await settle(h);
  }
}

/** A promise's outcome as it arrives, with the clock time it arrived at. */
export function watch<T>(h: Harness, promise: Promise<T>) {
  const state: { value?: T; at?: number } = {};
  promise.then((value) => {
    state.value = value;
    state.at = h.clock.now();
  });
  return state;
}

/** The most calls any sliding window `(t − windowMs, t]` holds. */
export function maxInWindow(calls: readonly CallRecord[], windowMs: number): number {
  const times = calls.map((c) => c.at).sort((a, b) => a - b);
  let most = 0;
  let start = 0;
  for (let end = 0; end < times.length; end++) {
    while (times[start]! <= times[end]! - windowMs) start++;
    most = Math.max(most, end - start + 1);
  }
  return most;
}

/** `maxInWindow` per key (e.g. per ICCID). */
export function maxPerKeyInWindow(calls: readonly CallRecord[], windowMs: number): number {
  const byKey = new Map<string, CallRecord[]>();
  for (const call of calls) {
    const key = call.iccid ?? '';
    byKey.set(key, [...(byKey.get(key) ?? []), call]);
  }
  let most = 0;
  for (const group of byKey.values()) most = Math.max(most, maxInWindow(group, windowMs));
  return most;
}

/** mulberry32: a small seeded PRNG, so a failing mix can be replayed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
