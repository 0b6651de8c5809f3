/** The in-process event bus: one replica, synchronous fan-out to the listeners. */
import type { EventBus } from './types.ts';

export function createMemoryEventBus<T>(): EventBus<T> {
  const listeners = new Set<(message: T) => void>();
  return {
    async publish(message) {
      for (const listener of listeners) listener(message);
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close() {
      listeners.clear();
    },
  };
}
