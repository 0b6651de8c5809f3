/**
 * The fleet-wide event bus on Redis pub/sub: one channel per bus (`<REDIS_KEY_PREFIX>events:<name>`), JSON messages.
 * A replica's own publications come back to it through its subscriber connection, so every replica, the publisher
 * included, delivers each message exactly once. When PUBLISH fails (Redis down), the message is delivered to this
 * replica's listeners directly and the failure is logged: subscribers here still hear it, the other replicas do not.
 */
import type { Logger } from 'pino';
import type { RedisConnections } from '../../platform/redis.ts';
import type { EventBus } from './types.ts';

export function createRedisEventBus<T>(redis: RedisConnections, name: string, logger: Logger): EventBus<T> {
  const channel = `${redis.keyPrefix}events:${name}`;
  const listeners = new Set<(message: T) => void>();
  const deliver = (message: T) => {
    for (const listener of listeners) listener(message);
  };
  const subscriber = redis.subscriber();
  const onMessage = (from: string, text: string) => {
    if (from !== channel) return;
    let message: T;
    try {
      message = JSON.parse(text) as T;
    } catch {
      logger.warn({ channel }, 'event bus: dropped a message that is not JSON');
      return;
    }
    deliver(message);
  };
  subscriber.on('message', onMessage);
  // The connection refuses commands until it is ready (no offline queue): subscribe on every (re)connect.
  const subscribe = () => {
    subscriber.subscribe(channel).catch((error: Error) => {
      logger.warn({ err: { name: error.name, message: error.message }, channel }, 'event bus: subscribe failed');
    });
  };
  subscriber.on('ready', subscribe);
  if (subscriber.status === 'ready') subscribe();
  return {
    async publish(message) {
      try {
        await redis.command.publish(channel, JSON.stringify(message));
      } catch (error) {
        logger.warn(
          { err: { name: (error as Error).name, message: (error as Error).message }, channel },
          'event bus: publish failed; delivered to this replica only',
        );
        deliver(message);
      }
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close() {
      listeners.clear();
      subscriber.off('message', onMessage);
      subscriber.off('ready', subscribe);
      await subscriber.unsubscribe(channel).catch(() => {});
    },
  };
}
