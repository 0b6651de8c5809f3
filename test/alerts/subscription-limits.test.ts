/** The subscription registry's own contract: idle timeout, per-principal and process limits, close at shutdown. */
import { describe, expect, it } from 'vitest';
import { SubscriptionLimitError, SubscriptionRegistry } from '../../src/domain/alerts/index.ts';

const collect = async <T>(iterator: AsyncIterableIterator<T>) => {
  const values: T[] = [];
  for await (const value of iterator) values.push(value);
  return values;
};

describe('SubscriptionRegistry', () => {
  it('ends a stream after idleTimeoutMs without an event, and each event re-arms the timeout', async () => {
    const registry = new SubscriptionRegistry({ maxPerPrincipal: 5, maxTotal: 5, idleTimeoutMs: 150 });
    let push: ((v: number) => boolean) | undefined;
    let tornDown = false;
    const stream = registry.open<number>('p', 'f', (s) => {
      push = s.push;
      return () => {
        tornDown = true;
      };
    });
    const started = performance.now();
    const done = collect(stream);
    await new Promise((resolve) => setTimeout(resolve, 100));
    push!(1);
    expect(await done).toEqual([1]);
    expect(performance.now() - started).toBeGreaterThanOrEqual(240);
    expect(tornDown).toBe(true);
    expect(registry.size).toBe(0);
  });

  it('refuses past the per-principal and the process limits, and frees a slot when a stream ends', async () => {
    const registry = new SubscriptionRegistry({ maxPerPrincipal: 2, maxTotal: 3, idleTimeoutMs: 60_000 });
    const open = (who: string) => registry.open(who, 'f', () => () => {});
    const a1 = open('a');
    open('a');
    expect(() => open('a')).toThrow(SubscriptionLimitError);
    open('b');
    expect(() => open('c')).toThrow(/already serves 3/);
    await a1.return!();
    expect(() => open('a')).not.toThrow();
    registry.close();
    expect(registry.size).toBe(0);
    expect(() => open('d')).toThrow(SubscriptionLimitError);
  });
});
