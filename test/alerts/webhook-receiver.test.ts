/**
 * The webhook receiver at the HTTP edge, over a real socket: signature over the raw bytes (valid, invalid, missing,
 * reordered keys, `\/` escapes), the HEAD opt-in check, the body bound, a fast acknowledgement, redelivery dedupe,
 * and the effects (usage/history and balance invalidated, unknown types acknowledged and ignored).
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { lowData, postWebhook, type Served, serveHarness, sign, waitFor } from './support.ts';

const fixtures = JSON.parse(readFileSync(new URL('./fixtures/airalo-webhooks.json', import.meta.url), 'utf8'));

let s: Served;
let iccid: string;
const outcomes = () => Object.fromEntries(s.h.gateway.alerts.hub.outcomes);
const usageCalls = () => s.h.sandbox.control.countCalls({ endpoint: 'usage', iccid });

beforeAll(async () => {
  s = await serveHarness();
  iccid = s.h.sandbox.control.iccids({ status: 'ACTIVE', unlimited: false })[0]!;
});
afterAll(() => s.close());
beforeEach(() => s.h.gateway.alerts.hub.outcomes.clear());

describe('webhook signature', () => {
  it('accepts a delivery signed over its raw bytes', async () => {
    const body = lowData(iccid);
    const response = await postWebhook(s.origins[0]!, body);
    expect(response.status).toBe(200);
    await waitFor(() => outcomes().published === 1);
  });

  it('refuses a bad signature with 401 and processes nothing', async () => {
    const body = lowData(iccid, '90%', 10);
    const response = await postWebhook(s.origins[0]!, body, sign(body, 'not-the-client-secret'));
    expect(response.status).toBe(401);
    await s.h.gateway.alerts.hub.drain();
    expect(outcomes()).toEqual({ unauthorized: 1 });
  });

  it('refuses a missing signature, and a malformed one, with 401', async () => {
    const body = lowData(iccid, '90%', 10);
    expect((await postWebhook(s.origins[0]!, body, null)).status).toBe(401);
    expect((await postWebhook(s.origins[0]!, body, 'abc')).status).toBe(401);
    expect((await postWebhook(s.origins[0]!, body, `${sign(body).slice(0, -2)}00`)).status).toBe(401);
    expect(outcomes()).toEqual({ unauthorized: 3 });
  });

  it('verifies the bytes received, not a re-serialisation: reordered keys and escaped slashes pass, a re-serialised signature fails', async () => {
    // Keys in another order than JSON.stringify would produce, PHP-style `\/`, extra whitespace.
    const raw = `{ "iccid": "${iccid}", "remaining_percentage": 9,\n "package_name": "bonbon\\/7gb", "level": "90%" }`;
    const reserialised = JSON.stringify(JSON.parse(raw));
    expect(reserialised).not.toBe(raw);
    expect((await postWebhook(s.origins[0]!, raw, sign(reserialised))).status).toBe(401);
    expect((await postWebhook(s.origins[0]!, raw, sign(raw))).status).toBe(200);
    await waitFor(() => outcomes().published === 1);
  });
});

describe('webhook endpoint', () => {
  it('answers the opt-in HEAD check with 200, and other methods with 405', async () => {
    expect((await fetch(`${s.origins[0]}/webhooks/airalo`, { method: 'HEAD' })).status).toBe(200);
    const get = await fetch(`${s.origins[0]}/webhooks/airalo`);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('HEAD, POST');
  });

  it('refuses a body over WEBHOOK_MAX_BYTES with 413 and processes nothing', async () => {
    const body = JSON.stringify({ level: '75%', iccid, package_name: 'x'.repeat(70_000) });
    expect((await postWebhook(s.origins[0]!, body)).status).toBe(413);
    await s.h.gateway.alerts.hub.drain();
    expect(outcomes()).toEqual({});
  });

  it('acknowledges within 100 ms', async () => {
    const started = performance.now();
    const response = await postWebhook(s.origins[0]!, JSON.stringify(fixtures.creditLimit));
    const elapsed = performance.now() - started;
    expect(response.status).toBe(200);
    expect(elapsed).toBeLessThan(100);
  });

  it('processes a redelivery once', async () => {
    const body = lowData(iccid, '3days', 43);
    for (let i = 0; i < 3; i++) expect((await postWebhook(s.origins[0]!, body)).status).toBe(200);
    await s.h.gateway.alerts.hub.drain();
    expect(outcomes()).toEqual({ published: 1, duplicate: 2 });
  });

  it('acknowledges an unknown event type (an async-order result) and publishes nothing', async () => {
    const received = s.h.gateway.alerts.hub.received;
    const response = await postWebhook(s.origins[0]!, JSON.stringify({ order_id: 42, status: 'completed' }));
    expect(response.status).toBe(200);
    await s.h.gateway.alerts.hub.drain();
    expect(outcomes()).toEqual({ unknown: 1 });
    expect(s.h.gateway.alerts.hub.received).toBe(received);
  });

  it('refuses GraphQL on the webhook path and webhooks on /graphql: the paths do not mix', async () => {
    const response = await fetch(`${s.origins[0]}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'airalo-signature': sign(lowData(iccid)) },
      body: lowData(iccid),
    });
    expect(response.status).toBe(400);
  });
});

describe('webhook effects', () => {
  it('a low-data alert invalidates the SIM usage: the next query reads the upstream again', async () => {
    const query = `{ sim(iccid: "${iccid}") { usage { remainingMb } } }`;
    await s.h.gql(query);
    const before = usageCalls();
    await s.h.gql(query);
    expect(usageCalls()).toBe(before); // cached
    await postWebhook(s.origins[0]!, lowData(iccid, '1days', 5));
    await s.h.gateway.alerts.hub.drain();
    expect(s.h.gateway.services.caches.usage.peek(iccid)).toBeUndefined();
    await s.h.gql(query);
    expect(usageCalls()).toBe(before + 1);
  });

  it('a credit-limit alert invalidates the balance', async () => {
    await s.h.gql('{ balance { available { amount } } }');
    const before = s.h.sandbox.control.countCalls({ endpoint: 'balance' });
    await s.h.gql('{ balance { available { amount } } }');
    expect(s.h.sandbox.control.countCalls({ endpoint: 'balance' })).toBe(before);
    await postWebhook(
      s.origins[0]!,
      JSON.stringify({ message: 'Surpassed 90% of the credit limit balance', remaining: 1.5 }),
    );
    await s.h.gateway.alerts.hub.drain();
    await s.h.gql('{ balance { available { amount } } }');
    expect(s.h.sandbox.control.countCalls({ endpoint: 'balance' })).toBe(before + 1);
  });
});
