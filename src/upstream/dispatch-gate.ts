/**
 * At most `limit` upstream exchanges dispatched and not yet answered; the others wait here, first come first served.
 *
 * Why not undici's own queue: a request queued in the Pool has already been built — its options and headers, the
 * interceptors' handlers, undici's Request and header strings, the call-deadline timer — and one cold 100-SIM query
 * queues 200 of them at once. Queued for tens of milliseconds, they outlive several young-generation GCs and are
 * promoted to the old generation, to die there: on the bulk cold load (benchmark scenario 5) that was most of the GC
 * time and ~35 MB of RSS after GC. Waiting here, a call is one small record until a connection is about to be free,
 * and what it builds then dies young. `limit` is twice the Pool's connections, so every connection has its next
 * request at hand when an answer ends.
 *
 * Bounds (the same as the Pool's queue had): a waiter is bounded by the call deadline (`maxWaitMs`) — past it, it
 * fails as never sent — and what it waited counts against that deadline once dispatched (`entered` resolves to the
 * ms waited); an abort of the caller's signal takes it out of the line at once.
 */
import { unwatchAbort, watchAbort } from '../platform/abort.ts';

/** Rejection of a waiter whose wait reached the call deadline: nothing was sent. */
export class GateDeadlineError extends Error {
  constructor(readonly waitedMs: number) {
    super(`not sent within the ${Math.round(waitedMs)} ms call deadline (no free upstream connection)`);
    this.name = 'GateDeadlineError';
  }
}

class Waiter {
  settled = false;
  constructor(
    readonly since: number,
    readonly signal: AbortSignal | null,
    readonly resolve: (waitedMs: number) => void,
    readonly reject: (error: unknown) => void,
  ) {}

  /** The signal's abort (see platform/abort.ts): out of the line, with the signal's reason. */
  handleEvent(): void {
    if (this.settled) return;
    this.settled = true;
    this.reject(this.signal!.reason);
  }
}

export class DispatchGate {
  #active = 0;
  /** FIFO: waiters from `#head` on; settled ones (aborted, expired) are skipped when reached. */
  #queue: Waiter[] = [];
  #head = 0;
  #timer: NodeJS.Timeout | null = null;

  constructor(
    readonly limit: number,
    readonly maxWaitMs: number,
  ) {}

  /** Exchanges dispatched and not yet answered. */
  get active(): number {
    return this.#active;
  }

  /** Calls waiting for a slot (aborted or expired ones not yet reached included). */
  get waiting(): number {
    return this.#queue.length - this.#head;
  }

  /**
   * Takes a slot: undefined when one was free (taken at once, nothing allocated), else a promise resolving to the ms
   * waited once a slot is this call's, or rejecting (the signal's reason, or a GateDeadlineError). Every slot taken
   * is given back with exactly one `leave()`.
   */
  enter(signal: AbortSignal | null): Promise<number> | undefined {
    if (this.#active < this.limit && this.waiting === 0) {
      this.#active++;
      return undefined;
    }
    return new Promise<number>((resolve, reject) => {
      const waiter = new Waiter(performance.now(), signal, resolve, reject);
      if (signal) watchAbort(signal, waiter);
      this.#queue.push(waiter);
      if (this.#timer === null) this.#arm();
    });
  }

  /** Gives a slot back: the first waiter still waiting gets it. */
  leave(): void {
    this.#active--;
    while (this.#head < this.#queue.length && this.#active < this.limit) {
      const waiter = this.#queue[this.#head]!;
      this.#queue[this.#head++] = undefined as unknown as Waiter;
      if (waiter.settled) continue;
      waiter.settled = true;
      if (waiter.signal) unwatchAbort(waiter.signal, waiter);
      this.#active++;
      waiter.resolve(performance.now() - waiter.since);
    }
    this.#compact();
  }

  /** One timer for the line: it fires when its oldest waiter reaches the deadline. */
  #arm(): void {
    const first = this.#firstWaiting();
    if (first === undefined) return;
    const delay = Math.max(0, first.since + this.maxWaitMs - performance.now());
    this.#timer = setTimeout(() => this.#expire(), delay);
    this.#timer.unref?.();
  }

  #expire(): void {
    this.#timer = null;
    const now = performance.now();
    for (let i = this.#head; i < this.#queue.length; i++) {
      const waiter = this.#queue[i]!;
      if (waiter.since + this.maxWaitMs > now) break; // FIFO: the rest waited less
      if (waiter.settled) continue;
      waiter.settled = true;
      if (waiter.signal) unwatchAbort(waiter.signal, waiter);
      waiter.reject(new GateDeadlineError(now - waiter.since));
    }
    this.#compact();
    this.#arm();
  }

  #firstWaiting(): Waiter | undefined {
    while (this.#head < this.#queue.length && this.#queue[this.#head]!.settled) {
      this.#queue[this.#head++] = undefined as unknown as Waiter;
    }
    return this.#queue[this.#head];
  }

  /** Drops the consumed front of the line once it is most of the array. */
  #compact(): void {
    if (this.#head === this.#queue.length) {
      this.#queue = [];
      this.#head = 0;
      if (this.#timer !== null) {
        clearTimeout(this.#timer);
        this.#timer = null;
      }
    } else if (this.#head > 1_024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
  }
}
