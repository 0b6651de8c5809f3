/**
 * Who wants an upstream call and how badly: the `Demand` every admission is decided for (README "How the scheduler
 * decides").
 *
 * - `foreground`: a client waits for the answer; queues for at most `foregroundWaitMs`.
 * - `deferred`: a client waits, for a field under `@defer` / `@stream`; queues behind every foreground call, for at most
 *   `deferredWaitMs`.
 * - `background`: nobody waits (a stale-while-revalidate refresh, a live-usage re-read, a GET retry); never queues,
 *   takes only spare budget.
 *
 * The resource caches take a Demand as an argument (no read without one). Calls made below them — and the direct
 * reads and the purchase, which call the upstream client — carry theirs in an async context (`withDemand`), which the
 * scheduler reads when the transport asks it (src/upstream/admission.ts). A call that reaches the scheduler with no
 * context is decided as `foreground` for the principal `unattributed` and counted (`UpstreamScheduler.stats`), so a
 * forgotten context can change no budget, only a priority — and a test catches it.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { UpstreamEndpoint } from '../../upstream/index.ts';

export const PRIORITIES = ['foreground', 'deferred', 'background'] as const;
export type Priority = (typeof PRIORITIES)[number];

/** The read modes a client can ask for: `deferred` under `@defer` / `@stream`. */
export type ReadMode = Extract<Priority, 'foreground' | 'deferred'>;

export interface Demand {
  readonly priority: Priority;
  /** The caller (Principal.id: `partner:<name>`, `user:<sub>`), for fairness between callers. */
  readonly principal: string;
}

/** Lower is served first. */
export const PRIORITY_RANK: Readonly<Record<Priority, number>> = { foreground: 0, deferred: 1, background: 2 };

/** The most urgent of two demands (the first on a tie). */
export function mostUrgent(a: Demand, b: Demand): Demand {
  return PRIORITY_RANK[b.priority] < PRIORITY_RANK[a.priority] ? b : a;
}

/** Call context: the demand, and the one attempt an explicit admission already granted (a cache flight's call). */
export interface CallContext {
  readonly demand: Demand;
  admitted?: { endpoint: UpstreamEndpoint; iccid: string | undefined; used: boolean };
}

const storage = new AsyncLocalStorage<CallContext>();

/** Runs `fn` with `demand` as the demand of every upstream call it causes (token requests included). */
export function withDemand<T>(demand: Demand, fn: () => T): T {
  return storage.run({ demand }, fn);
}

/**
 * Runs `fn` (one upstream call) after its admission was decided explicitly: the transport's first attempt for
 * `endpoint` / `iccid` is already granted; any other attempt it makes (the token, a resend after a 401) is decided
 * for `demand`.
 */
export function withAdmitted<T>(demand: Demand, endpoint: UpstreamEndpoint, iccid: string | undefined, fn: () => T): T {
  return storage.run({ demand, admitted: { endpoint, iccid, used: false } }, fn);
}

export function currentContext(): CallContext | undefined {
  return storage.getStore();
}
