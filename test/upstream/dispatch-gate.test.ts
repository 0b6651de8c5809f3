import { getEventListeners } from 'node:events';
import { Dispatcher } from 'undici';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createManualClock } from '../../src/platform/clock.ts';
import { DispatchGate, GateDeadlineError } from '../../src/upstream/dispatch-gate.ts';
import { CALL_DEADLINE_QUEUED, createUpstreamDispatcher, requestText } from '../../src/upstream/dispatcher.ts';
import { UpstreamUnavailableError } from '../../src/upstream/errors.ts';

afterEach(() => {
  vi.useRealTimers();
});

describe('DispatchGate', () => {
  it('lets `limit` calls through at once and the rest in arrival order, one per slot given back', async () => {
    const gate = new DispatchGate(2, 60_000);
    expect(gate.enter(null)).toBeUndefined();
    expect(gate.enter(null)).toBeUndefined();
    const order: string[] = [];
    const third = gate.enter(null)!.then(() => order.push('third'));
    const fourth = gate.enter(null)!.then(() => order.push('fourth'));
    expect(gate.waiting).toBe(2);
    await Promise.resolve();
    expect(order).toEqual([]);
    gate.leave();
    await third;
    expect(order).toEqual(['third']);
    expect(gate.active).toBe(2);
    gate.leave();
    await fourth;
    expect(order).toEqual(['third', 'fourth']);
    gate.leave();
    gate.leave();
    expect(gate.active).toBe(0);
    expect(gate.waiting).toBe(0);
  });

  it('a newcomer never overtakes the line, even when a slot is free for an instant', async () => {
    const gate = new DispatchGate(1, 60_000);
    expect(gate.enter(null)).toBeUndefined();
    const first = gate.enter(null)!;
    gate.leave(); // the slot goes to `first` at once
    expect(gate.enter(null)).toBeInstanceOf(Promise);
    await first;
  });

  it('an abort takes a waiter out of the line with its reason: it takes no slot and leaves no listener', async () => {
    const gate = new DispatchGate(1, 60_000);
    expect(gate.enter(null)).toBeUndefined();
    const controller = new AbortController();
    const aborted = gate.enter(controller.signal)!;
    const next = gate.enter(null)!;
    const reason = new Error('caller went away');
    controller.abort(reason);
    await expect(aborted).rejects.toBe(reason);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    gate.leave();
    await expect(next).resolves.toBeGreaterThanOrEqual(0);
    expect(gate.active).toBe(1);
  });

  it('a waiter that reaches the deadline fails as never sent; the ones behind it keep waiting', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const gate = new DispatchGate(1, 1_000);
    expect(gate.enter(null)).toBeUndefined();
    const early = gate.enter(null)!;
    const earlyOutcome = early.catch((e: unknown) => e);
    vi.advanceTimersByTime(400);
    const late = gate.enter(null)!;
    vi.advanceTimersByTime(600);
    const error = await earlyOutcome;
    expect(error).toBeInstanceOf(GateDeadlineError);
    expect((error as GateDeadlineError).waitedMs).toBeGreaterThanOrEqual(1_000);
    expect(gate.waiting).toBe(1);
    gate.leave();
    await expect(late).resolves.toBe(600); // it waited 600 ms of its 1,000
  });
});

/** Holds every request as if all connections were busy; `answer()` ends the oldest one with a 200. */
class HoldingDispatcher extends Dispatcher {
  readonly held: Dispatcher.DispatchHandler[] = [];
  override dispatch(_opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    this.held.push(handler);
    return true;
  }
  answer(): void {
    const handler = this.held.shift()!;
    const controller = {
      aborted: false,
      paused: false,
      reason: null,
      abort() {},
      pause() {},
      resume() {},
    } as unknown as Dispatcher.DispatchController;
    handler.onRequestStart?.(controller, {});
    handler.onResponseStart?.(controller, 200, {}, 'OK');
    handler.onResponseData?.(controller, Buffer.from('{}'));
    handler.onResponseEnd?.(controller, {});
  }
}

function upstreamOver(dispatcher: Dispatcher, callDeadlineMs: number) {
  return createUpstreamDispatcher({
    origin: 'http://upstream.test',
    connections: 1, // a gate of 2
    timeouts: { connectMs: 1_000, headersMs: 1_000, bodyMs: 1_000 },
    maxResponseBytes: 1_024,
    callDeadlineMs,
    getRetries: 0,
    retryBaseDelayMs: 1,
    clock: createManualClock(),
    dispatcher,
  });
}

describe('requestText through the gate', () => {
  it('dispatches at most twice the connections; the others are built and sent as answers free their slots', async () => {
    const held = new HoldingDispatcher();
    const upstream = upstreamOver(held, 60_000);
    const get = (path: string) =>
      requestText(upstream.dispatcher, { origin: 'http://upstream.test', path, method: 'GET' }, null, upstream.gate);
    const calls = ['/a', '/b', '/c', '/d', '/e'].map(get);
    expect(held.held).toHaveLength(2);
    expect(upstream.gate.waiting).toBe(3);
    for (let answered = 1; answered <= 5; answered++) {
      held.answer();
      await vi.waitFor(() => expect(held.held.length).toBe(Math.min(2, 5 - answered)));
    }
    await expect(Promise.all(calls)).resolves.toHaveLength(5);
    expect(upstream.gate.active).toBe(0);
  });

  it('a call that waited past the call deadline fails as never sent, even a POST', async () => {
    const held = new HoldingDispatcher();
    const upstream = upstreamOver(held, 50);
    const post = () =>
      requestText(
        upstream.dispatcher,
        {
          origin: 'http://upstream.test',
          path: '/v2/orders/topups',
          method: 'POST',
          body: '{}',
          upstreamEndpoint: 'submitTopup',
        } as Dispatcher.DispatchOptions,
        null,
        upstream.gate,
      ).catch((e: unknown) => e);
    const outcomes = [post(), post(), post()];
    expect(upstream.gate.waiting).toBe(1);
    const third = await outcomes[2];
    expect(third).toBeInstanceOf(UpstreamUnavailableError);
    expect(third).toMatchObject({
      endpoint: 'submitTopup',
      ambiguous: false,
      detail: expect.stringContaining(CALL_DEADLINE_QUEUED),
    });
    // The two dispatched ones fail at the same deadline (held by the Pool, never written).
    for (const outcome of await Promise.all(outcomes.slice(0, 2)))
      expect(outcome).toMatchObject({ ambiguous: false, detail: expect.stringContaining(CALL_DEADLINE_QUEUED) });
    expect(upstream.gate.active).toBe(0);
  });
});
