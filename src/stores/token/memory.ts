/**
 * The token held by this process alone: the embedded default, ONE REPLICA ONLY (each replica would fetch its own).
 * The token manager single-flights refreshes in-process, so a claim is always granted.
 */
import type { SharedToken, TokenStore } from './types.ts';

export class MemoryTokenStore implements TokenStore {
  private current: SharedToken | undefined;
  private holding = false;

  read(now: number): Promise<SharedToken | undefined> {
    const current = this.current;
    return Promise.resolve(current && now < current.validUntil ? current : undefined);
  }

  claim(): Promise<boolean> {
    this.holding = true;
    return Promise.resolve(true);
  }

  claimed(): Promise<boolean> {
    return Promise.resolve(this.holding);
  }

  write(token: SharedToken): Promise<void> {
    this.current = token;
    this.holding = false;
    return Promise.resolve();
  }

  release(): Promise<void> {
    this.holding = false;
    return Promise.resolve();
  }

  discard(token: string): Promise<void> {
    if (this.current?.token === token) this.current = undefined;
    return Promise.resolve();
  }
}
