/**
 * Open subscription streams and their limits: at most `maxPerPrincipal` per caller and `maxTotal` per process (the
 * `SUBSCRIPTIONS_MAX_*` settings), each ended after `idleTimeoutMs` without an event (the client reconnects), all
 * ended by `close()` at shutdown (the SSE stream then sends `complete` and ends). Counts what is open and delivered,
 * per field, for /metrics. No GraphQL here: a stream is a plain AsyncIterable.
 */

export class SubscriptionLimitError extends Error {
  constructor(
    readonly scope: 'principal' | 'process',
    readonly limit: number,
  ) {
    super(
      scope === 'principal'
        ? `This caller already has ${limit} open subscriptions, the most one caller may have.`
        : `The gateway already serves ${limit} subscriptions; try again later.`,
    );
    this.name = 'SubscriptionLimitError';
  }
}

export interface SubscriptionLimits {
  maxPerPrincipal: number;
  maxTotal: number;
  idleTimeoutMs: number;
  /** Events queued for a slow reader before the oldest are dropped. */
  maxQueued?: number;
}

export interface Stream<T> {
  /** Queue `value` for the reader; false once the stream has ended. */
  push(value: T): boolean;
  end(): void;
}

interface Open {
  end(): void;
}

export class SubscriptionRegistry {
  readonly #limits: SubscriptionLimits;
  readonly #open = new Set<Open>();
  readonly #perPrincipal = new Map<string, number>();
  readonly openByField = new Map<string, number>();
  readonly deliveredByField = new Map<string, number>();
  #closed = false;

  constructor(limits: SubscriptionLimits) {
    this.#limits = limits;
  }

  get size(): number {
    return this.#open.size;
  }

  /**
   * Opens a stream for `principalId` on `field` (or throws SubscriptionLimitError). `setup` wires its sources and
   * returns their teardown, which runs once when the stream ends (client gone, idle, shutdown).
   */
  open<T>(principalId: string, field: string, setup: (stream: Stream<T>) => () => void): AsyncIterableIterator<T> {
    const { maxPerPrincipal, maxTotal, idleTimeoutMs } = this.#limits;
    const maxQueued = this.#limits.maxQueued ?? 100;
    if (this.#closed || this.#open.size >= maxTotal) throw new SubscriptionLimitError('process', maxTotal);
    const mine = this.#perPrincipal.get(principalId) ?? 0;
    if (mine >= maxPerPrincipal) throw new SubscriptionLimitError('principal', maxPerPrincipal);
    this.#perPrincipal.set(principalId, mine + 1);
    this.openByField.set(field, (this.openByField.get(field) ?? 0) + 1);

    const queue: T[] = [];
    let waiting: ((result: IteratorResult<T>) => void) | undefined;
    let done = false;
    let idle: NodeJS.Timeout | undefined;
    const armIdle = () => {
      if (idle) idle.refresh();
      else idle = setTimeout(() => end(), idleTimeoutMs).unref();
    };
    let teardown: (() => void) | undefined;
    const entry: Open = { end: () => end() };
    const end = () => {
      if (done) return;
      done = true;
      clearTimeout(idle);
      this.#open.delete(entry);
      const left = (this.#perPrincipal.get(principalId) ?? 1) - 1;
      if (left <= 0) this.#perPrincipal.delete(principalId);
      else this.#perPrincipal.set(principalId, left);
      this.openByField.set(field, (this.openByField.get(field) ?? 1) - 1);
      teardown?.();
      queue.length = 0;
      const w = waiting;
      waiting = undefined;
      w?.({ value: undefined, done: true });
    };
    const stream: Stream<T> = {
      push: (value) => {
        if (done) return false;
        armIdle();
        this.deliveredByField.set(field, (this.deliveredByField.get(field) ?? 0) + 1);
        if (waiting) {
          const w = waiting;
          waiting = undefined;
          w({ value, done: false });
        } else {
          queue.push(value);
          if (queue.length > maxQueued) queue.shift();
        }
        return true;
      },
      end,
    };
    this.#open.add(entry);
    armIdle();
    try {
      teardown = setup(stream);
    } catch (error) {
      end();
      throw error;
    }
    if (done) teardown();
    const iterator: AsyncIterableIterator<T> = {
      next: () => {
        const value = queue.shift();
        if (value !== undefined) return Promise.resolve({ value, done: false });
        if (done) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => {
          waiting = resolve;
        });
      },
      return: () => {
        end();
        return Promise.resolve({ value: undefined, done: true });
      },
      throw: (error?: unknown) => {
        end();
        return Promise.reject(error);
      },
      [Symbol.asyncIterator]() {
        return iterator;
      },
    };
    return iterator;
  }

  /** Ends every open stream and refuses new ones (graceful shutdown). */
  close(): void {
    this.#closed = true;
    for (const entry of [...this.#open]) entry.end();
  }
}
