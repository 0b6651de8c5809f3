/**
 * The one way the gateway ties work to an AbortSignal.
 *
 * - `raceAbort(promise, signal, onAbort?)` settles as the promise does, or rejects with `signal.reason` as soon as the
 *   signal fires (at once when it already has). The promise itself keeps running: cancelling the work is its owner's
 *   business (see `onAbort`). The watch ends when either side settles, so a long-lived signal (a request's) does not
 *   collect one watcher per awaited call.
 * - `watchAbort(signal, watcher)` / `unwatchAbort(signal, watcher)`: run a function (or an object's `handleEvent`)
 *   once when the signal fires.
 *
 * Every watcher of one signal shares ONE native listener, added with the first watcher and kept: a 100-SIM query awaits
 * hundreds of reads on its request's signal, and a native EventTarget listener costs several allocations each (its
 * options, a Listener record) and a removal a search, where a Set entry costs neither; on the cold path that was one
 * of the largest allocation sources per upstream call. However much is awaited, a signal holds one listener.
 */

/** A function, or an object whose `handleEvent` runs (no closure needed). */
export type AbortWatcher = (() => void) | { handleEvent(): void };

const WATCHERS = Symbol('abortWatchers');

/** A signal's watchers, and its one native listener while it has any (the object itself: `handleEvent`). */
class Watchers {
  readonly all = new Set<AbortWatcher>();

  handleEvent(): void {
    // A copy: a watcher may unwatch (itself or another) while they run; each runs once.
    const all = [...this.all];
    this.all.clear();
    for (const w of all) {
      if (typeof w === 'function') w();
      else w.handleEvent();
    }
  }
}

type Watched = AbortSignal & { [WATCHERS]?: Watchers | undefined };

/** Runs `watcher` once when `signal` fires (never when it already has: check `signal.aborted` first). */
export function watchAbort(signal: AbortSignal, watcher: AbortWatcher): void {
  const watched = signal as Watched;
  let watchers = watched[WATCHERS];
  if (watchers === undefined) {
    // The one native listener, kept for the signal's life: watchers come and go as calls settle (a call's own signal
    // is watched and unwatched twice per upstream call), and an empty set costs nothing when the signal fires.
    watchers = new Watchers();
    watched[WATCHERS] = watchers;
    signal.addEventListener('abort', watchers, { once: true });
  }
  watchers.all.add(watcher);
}

/** Stops watching (a no-op when `watcher` already ran or never watched `signal`). */
export function unwatchAbort(signal: AbortSignal, watcher: AbortWatcher): void {
  (signal as Watched)[WATCHERS]?.all.delete(watcher);
}

/** How many watchers wait for `signal` (for tests and diagnostics: a settled call leaves none). */
export function abortWatcherCount(signal: AbortSignal): number {
  return (signal as Watched)[WATCHERS]?.all.size ?? 0;
}

/** `onAbort` runs once, when the abort wins (e.g. to let go of a call shared with other callers). */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined, onAbort?: () => void): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) {
    promise.catch(() => {}); // nobody awaits it any more: its failure is not an unhandled rejection
    onAbort?.();
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const abort = () => {
      onAbort?.();
      reject(signal.reason);
    };
    watchAbort(signal, abort);
    promise.then(
      (value) => {
        unwatchAbort(signal, abort);
        resolve(value);
      },
      (error: unknown) => {
        unwatchAbort(signal, abort);
        reject(error);
      },
    );
  });
}
