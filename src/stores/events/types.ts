/**
 * The subscription event bus: every message published by any replica reaches every subscriber on every replica
 * (in-process without `REDIS_URL`; Redis pub/sub with it). At-most-once: a replica that is disconnected from Redis
 * misses what was published meanwhile (alerts are notifications; the data they announce is re-read from the upstream).
 * Messages must be JSON-serialisable.
 */
export interface EventBus<T> {
  /** Resolves once handed to the transport; a Redis failure still delivers to this replica's own subscribers. */
  publish(message: T): Promise<void>;
  /** Returns the unsubscribe function. */
  subscribe(listener: (message: T) => void): () => void;
  close(): Promise<void>;
}
