/**
 * `usageUpdates`: one shared refresh per watched SIM for every subscriber in the process. A SIM is read through the
 * usage cache (so the upstream sees at most one read per SIM per usage freshness window, within the per-ICCID
 * budget, coalesced with every query's reads), again when its value stops being fresh, and at once when its cached
 * usage changes or is invalidated (a webhook alert, a purchase). Subscribers get the current value when they start,
 * then only changes. Nothing is watched once the last subscriber of a SIM has gone.
 * Upstream budget (README "How the scheduler decides"): the first read of a newly watched SIM is `deferred` for the
 * subscriber (a client waits for it, streaming); the re-reads are `background` (spare budget only: a refused re-read
 * is tried again after `retryMs`).
 */
import type { Logger } from 'pino';
import type { Clock } from '../../platform/clock.ts';
import type { Usage } from '../../upstream/index.ts';
import type { CacheRead, ResourceCache } from '../cache/index.ts';
import type { Demand } from '../scheduler/index.ts';
import type { Stream, SubscriptionRegistry } from './subscriptions.ts';

export interface UsageUpdate {
  iccid: string;
  usage: CacheRead<Usage>;
}

interface Watched {
  streams: Set<Stream<UsageUpdate>>;
  last: CacheRead<Usage> | undefined;
  lastKey: string | undefined;
  /** Clock time of the next scheduled read. */
  nextAt: number;
  reading: boolean;
}

export interface UsageWatchOptions {
  cache: ResourceCache<Usage>;
  registry: SubscriptionRegistry;
  clock: Clock;
  logger: Logger;
  /** How often due SIMs are looked for (real time); the schedule itself is on `clock`. */
  scanIntervalMs?: number;
  /** Wait after a failed or budget-refused read before the next one. */
  retryMs?: number;
}

const REREAD: Demand = Object.freeze({ priority: 'background', principal: 'usage-watch' });

export class UsageWatch {
  readonly #o: UsageWatchOptions;
  readonly #watched = new Map<string, Watched>();
  readonly #timer: NodeJS.Timeout;

  constructor(options: UsageWatchOptions) {
    this.#o = options;
    this.#timer = setInterval(() => this.#scan(), options.scanIntervalMs ?? 1_000).unref();
    options.cache.onChange((iccid) => this.#changed(iccid));
  }

  /** SIMs with at least one subscriber. */
  get size(): number {
    return this.#watched.size;
  }

  watch(principalId: string, iccids: readonly string[]): AsyncIterableIterator<UsageUpdate> {
    const keys = [...new Set(iccids)];
    return this.#o.registry.open<UsageUpdate>(principalId, 'usageUpdates', (stream) => {
      for (const iccid of keys) {
        let w = this.#watched.get(iccid);
        if (!w) {
          w = { streams: new Set(), last: undefined, lastKey: undefined, nextAt: 0, reading: false };
          this.#watched.set(iccid, w);
          this.#read(iccid, w, { priority: 'deferred', principal: principalId });
        } else if (w.last) stream.push({ iccid, usage: w.last });
        w.streams.add(stream);
      }
      return () => {
        for (const iccid of keys) {
          const w = this.#watched.get(iccid);
          w?.streams.delete(stream);
          if (w?.streams.size === 0) this.#watched.delete(iccid);
        }
      };
    });
  }

  #scan(): void {
    const now = this.#o.clock.now();
    for (const [iccid, w] of this.#watched) if (!w.reading && now >= w.nextAt) this.#read(iccid, w, REREAD);
  }

  /** The cached usage of a watched SIM changed: push the new value, or re-read at once when it was dropped. */
  #changed(iccid: string): void {
    const w = this.#watched.get(iccid);
    if (!w) return;
    const current = this.#o.cache.peek(iccid);
    if (current && !current.stale) this.#offer(iccid, w, current);
    else if (!w.reading) this.#read(iccid, w, REREAD);
  }

  #read(iccid: string, w: Watched, demand: Demand): void {
    w.reading = true;
    const retryMs = this.#o.retryMs ?? 30_000;
    this.#o.cache.get(iccid, demand).then(
      (read) => {
        w.reading = false;
        this.#offer(iccid, w, read);
        // A stale serve is being refreshed in the background: its arrival comes through onChange.
        w.nextAt = read.stale ? this.#o.clock.now() + retryMs : this.#o.cache.freshUntil(read);
      },
      (error: Error) => {
        w.reading = false;
        w.nextAt = this.#o.clock.now() + retryMs;
        this.#o.logger.debug({ iccid, err: { name: error.name, message: error.message } }, 'usage watch: read failed');
      },
    );
  }

  /** Pushes `read` to the SIM's subscribers when its value differs from the last one pushed. */
  #offer(iccid: string, w: Watched, read: CacheRead<Usage>): void {
    const key = JSON.stringify(read.value);
    if (key === w.lastKey) return;
    w.lastKey = key;
    w.last = read;
    for (const stream of w.streams) stream.push({ iccid, usage: read });
  }

  close(): void {
    clearInterval(this.#timer);
    this.#watched.clear();
  }
}
