/**
 * The invalidation bus on Redis pub/sub (README "Running several replicas"): published on the command connection
 * (so after this replica's earlier cache-L2 writes), received on the subscriber connection. One channel,
 * `<REDIS_KEY_PREFIX>invalidation` (ioredis prefixes keys, not channels, so the prefix is added here); a message is
 * `{"o":origin,"r":resource,"k":key,"t":kind}`, the origin a random id per gateway, so a replica ignores its own.
 * After the subscriber reconnects it subscribes again, then `onResync` listeners run: messages published while it
 * was away are lost. Failures are logged once per change of state, never per message.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { RedisConnections } from '../../platform/redis.ts';
import type { Invalidation, InvalidationBus, InvalidationKind } from './types.ts';

const KINDS: ReadonlySet<string> = new Set<InvalidationKind>(['drop', 'changed']);

export class RedisInvalidationBus implements InvalidationBus {
  private readonly origin = randomUUID();
  private readonly channel: string;
  private readonly events = new EventEmitter();
  private publishing = true;
  /** The subscriber lost its connection since it last subscribed: the next `ready` is a resync. */
  private interrupted = false;
  private closed = false;

  constructor(
    private readonly connections: RedisConnections,
    private readonly logger: Logger,
  ) {
    this.events.setMaxListeners(0);
    this.channel = `${connections.keyPrefix}invalidation`;
    const sub = connections.subscriber();
    sub.on('message', (channel: string, raw: string) => {
      if (channel === this.channel) this.receive(raw);
    });
    sub.on('close', () => {
      if (!this.closed) this.interrupted = true;
    });
    sub.on('ready', () => {
      if (!this.interrupted || this.closed) return;
      this.subscribe().then((ok) => {
        if (!ok) return;
        this.interrupted = false;
        this.logger.info({ store: 'invalidation' }, 'invalidation bus: resubscribed; cached values will be re-checked');
        this.events.emit('resync');
      });
    });
    void this.subscribe();
  }

  private async subscribe(): Promise<boolean> {
    try {
      await this.connections.subscriber().subscribe(this.channel);
      return true;
    } catch (error) {
      this.logger.debug({ err: describe(error) }, 'invalidation bus: subscribe failed; retried on reconnect');
      this.interrupted = true;
      return false;
    }
  }

  publish(message: Invalidation): void {
    const raw = JSON.stringify({ o: this.origin, r: message.resource, k: message.key, t: message.kind });
    this.connections.command.publish(this.channel, raw).then(
      () => {
        if (this.publishing) return;
        this.publishing = true;
        this.logger.info({ store: 'invalidation' }, 'invalidation bus: publishing again');
      },
      (error: unknown) => {
        if (!this.publishing) return;
        this.publishing = false;
        this.logger.warn({ store: 'invalidation', err: describe(error) }, 'invalidation bus: cannot publish');
      },
    );
  }

  onMessage(listener: (message: Invalidation) => void): void {
    this.events.on('message', listener);
  }

  onResync(listener: () => void): void {
    this.events.on('resync', listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.events.removeAllListeners();
  }

  private receive(raw: string): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      return;
    }
    const m = parsed as { o?: unknown; r?: unknown; k?: unknown; t?: unknown };
    if (m.o === this.origin || typeof m.r !== 'string' || typeof m.k !== 'string' || !KINDS.has(m.t as string)) return;
    this.events.emit('message', { resource: m.r, key: m.k, kind: m.t as InvalidationKind });
  }
}

function describe(error: unknown) {
  return error instanceof Error ? { name: error.name, message: error.message } : { message: String(error) };
}
