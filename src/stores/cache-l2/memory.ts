/**
 * The in-process default (no `REDIS_URL`, one replica only): no second level. `shared` is false, so the resource
 * cache never calls these methods and behaves exactly as with its L1 alone; they answer "nothing shared" regardless.
 */
import type { CacheL2, L2Lock, L2Read } from './types.ts';

export class MemoryCacheL2 implements CacheL2 {
  readonly shared = false;

  async get(): Promise<L2Read> {
    return { state: 'absent' };
  }

  async put(): Promise<boolean> {
    return false;
  }

  async delete(): Promise<void> {}

  async tryLock(): Promise<L2Lock> {
    return { state: 'acquired', token: 'local' };
  }

  async unlock(): Promise<void> {}
}
