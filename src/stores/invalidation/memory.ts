/**
 * The in-process default (no `REDIS_URL`, one replica only): an emitter. Alone, a gateway has nobody to tell (its
 * own messages are not delivered back to it); gateways given the same emitter hear each other, as a fleet on Redis
 * would. Delivery is synchronous and never interrupted, so `onResync` never fires.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Invalidation, InvalidationBus } from './types.ts';

export class MemoryInvalidationBus implements InvalidationBus {
  private readonly origin = randomUUID();

  constructor(private readonly emitter: EventEmitter = new EventEmitter()) {
    emitter.setMaxListeners(0);
  }

  publish(message: Invalidation): void {
    this.emitter.emit('invalidation', this.origin, message);
  }

  onMessage(listener: (message: Invalidation) => void): void {
    this.emitter.on('invalidation', (origin: string, message: Invalidation) => {
      if (origin !== this.origin) listener(message);
    });
  }

  onResync(): void {}

  async close(): Promise<void> {}
}
