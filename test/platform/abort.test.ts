import { getEventListeners } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import { abortWatcherCount, raceAbort, unwatchAbort, watchAbort } from '../../src/platform/abort.ts';

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('raceAbort', () => {
  it('without a signal is the promise itself', () => {
    const p = Promise.resolve(1);
    expect(raceAbort(p, undefined)).toBe(p);
  });

  it('settles as the promise does and then stops listening to the signal', async () => {
    const controller = new AbortController();
    const onAbort = vi.fn();
    const ok = deferred<string>();
    const raced = raceAbort(ok.promise, controller.signal, onAbort);
    expect(abortWatcherCount(controller.signal)).toBe(1);
    ok.resolve('value');
    await expect(raced).resolves.toBe('value');
    expect(abortWatcherCount(controller.signal)).toBe(0);

    const failing = deferred<string>();
    const rejected = raceAbort(failing.promise, controller.signal, onAbort);
    failing.reject(new Error('boom'));
    await expect(rejected).rejects.toThrow('boom');
    expect(abortWatcherCount(controller.signal)).toBe(0);
    // However much was awaited on it, the signal holds one native listener.
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    controller.abort(new Error('late'));
    expect(onAbort).not.toHaveBeenCalled();
  });

  it('rejects with the abort reason as soon as the signal fires, runs onAbort once, and leaves the promise running', async () => {
    const controller = new AbortController();
    const onAbort = vi.fn();
    const work = deferred<string>();
    const raced = raceAbort(work.promise, controller.signal, onAbort);
    const reason = new Error('caller went away');
    controller.abort(reason);
    await expect(raced).rejects.toBe(reason);
    expect(onAbort).toHaveBeenCalledTimes(1);
    work.resolve('done anyway');
    await expect(work.promise).resolves.toBe('done anyway');
  });

  it('rejects at once when the signal has already fired, without an unhandled rejection of the promise', async () => {
    const reason = new Error('already gone');
    const signal = AbortSignal.abort(reason);
    const onAbort = vi.fn();
    const work = deferred<string>();
    const raced = raceAbort(work.promise, signal, onAbort);
    expect(onAbort).toHaveBeenCalledTimes(1);
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
    await expect(raced).rejects.toBe(reason);
    const unhandled = vi.fn();
    process.on('unhandledRejection', unhandled);
    try {
      work.reject(new Error('nobody listens'));
      await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled).not.toHaveBeenCalled();
    } finally {
      process.off('unhandledRejection', unhandled);
    }
  });
});

describe('watchAbort', () => {
  it('gives every watcher of a signal one native listener, runs each once, and forgets the unwatched', () => {
    const controller = new AbortController();
    const { signal } = controller;
    const calls: string[] = [];
    const a = () => calls.push('a');
    const b = { handleEvent: () => calls.push('b') };
    const c = () => calls.push('c');
    watchAbort(signal, a);
    watchAbort(signal, b);
    watchAbort(signal, c);
    expect(getEventListeners(signal, 'abort')).toHaveLength(1);
    expect(abortWatcherCount(signal)).toBe(3);
    unwatchAbort(signal, c);
    unwatchAbort(signal, c); // twice: a no-op
    expect(abortWatcherCount(signal)).toBe(2);
    controller.abort();
    controller.abort();
    expect(calls).toEqual(['a', 'b']);
    expect(abortWatcherCount(signal)).toBe(0);
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
  });

  it('keeps one native listener while watchers come and go', () => {
    const controller = new AbortController();
    const { signal } = controller;
    const first = vi.fn();
    for (let i = 0; i < 100; i++) {
      watchAbort(signal, first);
      unwatchAbort(signal, first);
    }
    expect(getEventListeners(signal, 'abort')).toHaveLength(1);
    expect(abortWatcherCount(signal)).toBe(0);
    const second = vi.fn();
    watchAbort(signal, second);
    controller.abort();
    expect(first).not.toHaveBeenCalled();
    expect(second).toHaveBeenCalledTimes(1);
  });

  it('lets a watcher unwatch another while they run: each watcher present at the abort runs once', () => {
    const controller = new AbortController();
    const { signal } = controller;
    const later = vi.fn();
    watchAbort(signal, () => unwatchAbort(signal, later));
    watchAbort(signal, later);
    controller.abort();
    expect(later).toHaveBeenCalledTimes(1);
  });
});
