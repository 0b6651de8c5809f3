/**
 * The invalidation bus (README "Running several replicas"): a change to a cached resource on one replica reaches
 * every other replica's L1 and response cache.
 *
 * Contract:
 * - `publish` is fire-and-forget and never throws; a message is delivered to every OTHER replica that is connected
 *   (never back to its sender), in the order one replica published them;
 * - with Redis, a message is published on the command connection after any cache-L2 write the same replica issued
 *   before it, so a replica that re-reads L2 on receipt sees that write;
 * - messages name a resource and a key (an ICCID or `partner`), never a value, a token or a principal;
 * - `onResync` fires when delivery resumes after an interruption (messages may have been missed meanwhile): listeners
 *   must treat everything they cache as possibly outdated.
 */

/** `drop`: the value is gone everywhere (L2 deleted too), forget it. `changed`: L2 holds a newer value, re-read it. */
export type InvalidationKind = 'drop' | 'changed';

export interface Invalidation {
  resource: string;
  key: string;
  kind: InvalidationKind;
}

export interface InvalidationBus {
  publish(message: Invalidation): void;
  onMessage(listener: (message: Invalidation) => void): void;
  onResync(listener: () => void): void;
  close(): Promise<void>;
}
