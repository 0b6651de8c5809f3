/**
 * The one way the gateway ties a promise to an AbortSignal. `raceAbort(promise, signal, onAbort?)` settles as the
 * promise does, or rejects with `signal.reason` as soon as the signal fires (at once when it already has). The promise
 * itself keeps running: cancelling the work is its owner's business (see `onAbort`). The listener is removed when
 * either side settles, so a long-lived signal (a request's) does not collect one listener per awaited call.
 */

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
    signal.addEventListener('abort', abort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', abort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', abort);
        reject(error);
      },
    );
  });
}
