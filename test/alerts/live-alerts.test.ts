/**
 * The alert flow end to end: a partner opts in through GraphQL (the sandbox HEAD-checks the gateway's webhook URL),
 * the sandbox delivers a signed low-data event when a SIM's usage crosses 75 %, and a `graphql-sse` client subscribed
 * to `simAlerts` receives it within 200 ms of the sandbox's POST — on one gateway, and across three replicas sharing
 * Redis (delivered to the first, subscribed on the third). Also the sandbox's notification behaviour: simulator rate
 * limit, clock-driven expiry, credit-limit levels, retries.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSandbox } from '../../src/sandbox/index.ts';
import { SANDBOX_CREDENTIALS } from '../support/harness.ts';
import { type RedisServer, startRedisServer } from '../support/redis-server.ts';
import { until } from '../support/until.ts';
import { AUTH_ENV, PARTNER, type Served, serveHarness, sign, sseClient, subscribe, waitFor } from './support.ts';

const SIM_ALERTS = `subscription Alerts($iccids: [ID!]) {
  simAlerts(iccids: $iccids) { iccid kind level remainingPercentage packageName receivedAt sim { iccid } }
}`;
const OPT_IN = `mutation OptIn($type: AlertNotificationType!, $levels: [Int!]) {
  setAlertNotification(type: $type, enabled: true, levels: $levels) { type enabled webhookUrl levels }
}`;

/** Uses all the data left on a fresh SIM: its usage crosses 75 % and 90 %, and the sandbox delivers both at once. */
function useAllData(s: Served, iccid: string): void {
  s.h.sandbox.control.consumeData(iccid, 1_000_000);
}

async function optIn(s: Served): Promise<void> {
  const result = await s.h.gql(OPT_IN, { type: 'LOW_DATA' }, PARTNER);
  expect(result.errors).toBeUndefined();
  expect(result.data.setAlertNotification).toEqual({
    type: 'LOW_DATA',
    enabled: true,
    webhookUrl: `${s.origins[0]}/webhooks/airalo`,
    levels: null,
  });
}

/** A SIM the sandbox will deliver a 75 % alert for: active, limited, below 75 % used. */
function freshSim(s: Served): string {
  const control = s.h.sandbox.control;
  return control.iccids({ status: 'ACTIVE', unlimited: false }).find((iccid) => {
    const before = control.deliveries().length;
    control.consumeData(iccid, 0);
    return control.deliveries().length === before;
  })!;
}

describe('live alerts on one gateway', () => {
  let s: Served;
  beforeAll(async () => {
    s = await serveHarness({ env: AUTH_ENV });
  });
  afterAll(() => s.close());

  it('opt-in through GraphQL reaches the upstream, which HEAD-checked the webhook URL; the settings query reads it back', async () => {
    await optIn(s);
    expect(s.h.sandbox.control.notificationSettings()).toEqual([
      { type: 'webhook_low_data', contactPoint: `${s.origins[0]}/webhooks/airalo`, levels: null },
    ]);
    const settings = await s.h.gql('{ alertNotifications { type enabled webhookUrl } }', {}, PARTNER);
    expect(settings.data.alertNotifications).toEqual([
      { type: 'LOW_DATA', enabled: true, webhookUrl: `${s.origins[0]}/webhooks/airalo` },
      { type: 'CREDIT_LIMIT', enabled: false, webhookUrl: null },
      { type: 'ASYNC_ORDERS', enabled: false, webhookUrl: null },
    ]);
  });

  it('an SSE subscriber receives a sandbox-emitted low-data alert within 200 ms of the delivery', async () => {
    const iccid = freshSim(s);
    const client = sseClient(`${s.origins[0]}/graphql`);
    const alerts = subscribe(client, SIM_ALERTS, { iccids: [iccid] });
    await waitFor(() => s.h.gateway.alerts.subscriptions.size === 1);
    useAllData(s, iccid);
    await alerts.next(1, 2_000);
    const delivery = s.h.sandbox.control.deliveries().at(-2)!; // 75 %, then 90 %
    await s.h.sandbox.control.deliveriesSettled();
    expect(delivery.attempts.map((a) => a.status)).toEqual([200]);
    const latencyMs = performance.timeOrigin + alerts.values[0]!.at - delivery.attempts[0]!.sentAt;
    expect(latencyMs).toBeLessThan(200);
    expect(alerts.values[0]!.data).toMatchObject({
      simAlerts: { iccid, kind: 'LOW_DATA', level: '75%', sim: { iccid } },
    });
    alerts.dispose();
    client.dispose();
  });

  it('end users may subscribe only to their own SIMs: another SIM behaves exactly as an unknown one', async () => {
    const [mine, theirs] = s.h.sandbox.control.iccids({ status: 'ACTIVE' });
    const { userToken } = await import('./support.ts');
    const token = await userToken(s.h, 'user-1', [mine!]);
    const client = sseClient(`${s.origins[0]}/graphql`, { authorization: `Bearer ${token}` });
    const other = subscribe(client, SIM_ALERTS, { iccids: [theirs] });
    const unknown = subscribe(client, SIM_ALERTS, { iccids: ['8999999999999999999'] });
    await waitFor(() => other.errors.length > 0 && unknown.errors.length > 0);
    const codeOf = (e: any) => (Array.isArray(e) ? e[0] : e).extensions?.code;
    expect(codeOf(other.errors[0])).toBe('SIM_NOT_FOUND');
    expect(codeOf(unknown.errors[0])).toBe('SIM_NOT_FOUND');
    // Without `iccids` an end user watches their own SIMs only; another SIM's alert never reaches them.
    const own = subscribe(client, SIM_ALERTS, {});
    const partner = subscribe(sseClient(`${s.origins[0]}/graphql`), SIM_ALERTS, {});
    await waitFor(() => s.h.gateway.alerts.subscriptions.size === 2);
    const post = (iccid: string, level: string) =>
      fetch(`${s.origins[0]}/webhooks/airalo`, {
        method: 'POST',
        headers: { 'airalo-signature': sign(JSON.stringify({ level, iccid })) },
        body: JSON.stringify({ level, iccid }),
      });
    await post(theirs!, '90%');
    await post(mine!, '90%');
    await own.next(1);
    await partner.next(2);
    expect(own.values.map((v) => v.data.simAlerts.iccid)).toEqual([mine]);
    expect(partner.values.map((v) => v.data.simAlerts.iccid)).toEqual([theirs, mine]);
    const balance = subscribe(client, 'subscription { balanceAlerts { message } }');
    await waitFor(() => balance.errors.length > 0);
    expect(codeOf(balance.errors[0])).toBe('FORBIDDEN');
    for (const r of [other, unknown, own, partner, balance]) r.dispose();
    client.dispose();
  });

  it('the sandbox delivers credit-limit alerts when the balance crosses an opted-in level; balanceAlerts receives them', async () => {
    const result = await s.h.gql(OPT_IN, { type: 'CREDIT_LIMIT', levels: [50, 90] }, PARTNER);
    expect(result.data.setAlertNotification.levels).toEqual([50, 90]);
    const client = sseClient(`${s.origins[0]}/graphql`);
    const alerts = subscribe(client, 'subscription { balanceAlerts { message thresholdPercent remaining } }');
    await waitFor(() => s.h.gateway.alerts.subscriptions.size === 1);
    s.h.sandbox.control.checkNotifications(); // baseline after the opt-in
    s.h.sandbox.control.setBalance(2_000); // 60 % of the 5,000 credit used
    await alerts.next(1);
    expect(alerts.values[0]!.data.balanceAlerts).toEqual({
      message: 'Surpassed 50% of the credit limit balance',
      thresholdPercent: 50,
      remaining: '2000.00',
    });
    alerts.dispose();
    client.dispose();
  });

  it('shutdown ends open streams cleanly (the client sees complete); /metrics counted them', async () => {
    // The streams of the tests above were closed by their clients: the gateway let go of them.
    await waitFor(() => s.h.gateway.alerts.subscriptions.size === 0);
    const client = sseClient(`${s.origins[0]}/graphql`);
    const alerts = subscribe(client, SIM_ALERTS, {});
    await waitFor(() => s.h.gateway.alerts.subscriptions.size === 1);
    const metrics = await s.h.gateway.metrics.registry.metrics();
    expect(metrics).toMatch(/gateway_subscriptions_open\{field="simAlerts"\} 1/);
    expect(metrics).toMatch(/gateway_subscription_events_delivered\{field="simAlerts"\} [1-9]/);
    expect(metrics).toMatch(/gateway_webhook_deliveries\{outcome="published"\} [1-9]/);
    s.h.gateway.alerts.subscriptions.close();
    await waitFor(() => alerts.completed || alerts.errors.length > 0);
    expect(alerts.errors).toEqual([]);
    expect(alerts.completed).toBe(true);
    client.dispose();
  });
});

describe('live alerts across three replicas sharing Redis', () => {
  let redis: RedisServer;
  let s: Served;
  beforeAll(async () => {
    redis = await startRedisServer();
    s = await serveHarness({ env: { ...AUTH_ENV, REDIS_URL: redis.url }, replicas: 3 });
  }, 30_000);
  afterAll(async () => {
    await s?.close();
    await redis?.stop();
  });

  it('a delivery received by one replica reaches a subscriber on another within 200 ms, once; redeliveries are dropped fleet-wide', async () => {
    await optIn(s);
    const iccid = freshSim(s);
    const clients = [1, 2].map((i) => sseClient(`${s.origins[i]}/graphql`));
    const alerts = clients.map((c) => subscribe(c, SIM_ALERTS, { iccids: [iccid] }));
    await waitFor(() => s.h.replicas.every((r, i) => i === 0 || r.gateway.alerts.subscriptions.size === 1));
    await new Promise((resolve) => setTimeout(resolve, 100)); // Redis SUBSCRIBE acknowledged
    useAllData(s, iccid);
    await Promise.all(alerts.map((a) => a.next(2, 2_000)));
    const delivery = s.h.sandbox.control.deliveries().at(-2)!; // 75 %, then 90 %
    expect(delivery.url).toBe(`${s.origins[0]}/webhooks/airalo`);
    for (const a of alerts) {
      expect(performance.timeOrigin + a.values[0]!.at - delivery.attempts[0]!.sentAt).toBeLessThan(200);
      expect(a.values.map((v) => v.data.simAlerts.level)).toEqual(['75%', '90%']);
    }
    // The same delivery again, to another replica: deduplicated through Redis, nobody hears it twice.
    const again = await fetch(`${s.origins[2]}/webhooks/airalo`, {
      method: 'POST',
      headers: { 'airalo-signature': delivery.signature },
      body: delivery.body,
    });
    expect(again.status).toBe(200);
    await Promise.all(s.h.replicas.map((r) => r.gateway.alerts.hub.drain()));
    expect(s.h.replicas[2]!.gateway.alerts.hub.outcomes.get('duplicate')).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(alerts.map((a) => a.values.length)).toEqual([2, 2]);
    // The receiving replica applied the effect once and the caches' invalidation bus carried it to the others: the
    // SIM's usage is re-read on next access, wherever it is asked.
    await until(() => s.h.replicas.every((r) => r.gateway.services.caches.usage.peek(iccid) === undefined), 2_000);
    for (const r of s.h.replicas) expect(r.gateway.services.caches.usage.peek(iccid)).toBeUndefined();
    for (const c of clients) c.dispose();
  }, 20_000);
});

describe('sandbox notifications', () => {
  let receiver: ReturnType<typeof createServer>;
  let url: string;
  const bodies: { body: string; signature: string | undefined }[] = [];
  let failNext = 0;
  beforeAll(async () => {
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.method === 'POST') {
          if (failNext > 0) {
            failNext--;
            res.writeHead(503).end();
            return;
          }
          bodies.push({ body: Buffer.concat(chunks).toString(), signature: req.headers['airalo-signature'] as string });
        }
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  });
  afterAll(() => new Promise((resolve) => receiver.close(resolve)));
  afterEach(() => {
    bodies.length = 0;
  });

  async function sandboxWithToken(options: Parameters<typeof createSandbox>[0] = {}) {
    const { createManualClock } = await import('../../src/platform/clock.ts');
    const clock = createManualClock();
    const sandbox = await createSandbox({ clock, ...options });
    const tokenResponse = await fetch(`${sandbox.url}/v2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        client_id: SANDBOX_CREDENTIALS.clientId,
        client_secret: SANDBOX_CREDENTIALS.clientSecret,
        grant_type: 'client_credentials',
      }),
    });
    const token = ((await tokenResponse.json()) as { data: { access_token: string } }).data.access_token;
    const call = (path: string, method = 'GET', body?: unknown) =>
      fetch(`${sandbox.url}/v2${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, accept: 'application/json', 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    return { sandbox, clock, call };
  }

  it('opt-in refuses a URL that does not answer HEAD with 200; opt-out answers 204', async () => {
    const { sandbox, call } = await sandboxWithToken();
    const refused = await call('/notifications/opt-in', 'POST', {
      type: 'webhook_low_data',
      webhook_url: 'http://127.0.0.1:1/x',
    });
    expect(refused.status).toBe(422);
    const ok = await call('/notifications/opt-in', 'POST', { type: 'webhook_low_data', webhook_url: url });
    expect(await ok.json()).toEqual({
      data: { notification: { type: 'webhook_low_data', contact_point: url } },
      meta: { message: 'success' },
    });
    expect((await (await call('/notifications/opt-in')).json()).data.notification.type).toBe('webhook_low_data');
    expect((await call('/notifications/opt-out', 'POST', { type: 'webhook_low_data' })).status).toBe(204);
    expect((await (await call('/notifications/opt-in')).json()).data).toEqual([]);
    await sandbox.close();
  });

  it('the simulator delivers one signed mock event and is limited to 1 request per 15 minutes per IP', async () => {
    const { sandbox, clock, call } = await sandboxWithToken();
    await call('/notifications/opt-in', 'POST', { type: 'webhook_low_data', webhook_url: url });
    const iccid = sandbox.control.iccids()[0]!;
    const first = await call('/simulator/webhook', 'POST', { event: 'low_data_notification', type: 'expire_1', iccid });
    expect(await first.json()).toEqual({ success: 'Notification sent' });
    const second = await call('/simulator/webhook', 'POST', {
      event: 'low_data_notification',
      type: 'expire_1',
      iccid,
    });
    expect(second.status).toBe(429);
    expect(Number(second.headers.get('retry-after'))).toBe(900);
    clock.advance(15 * 60_000);
    expect(
      (await call('/simulator/webhook', 'POST', { event: 'low_data_notification', type: 'data_90', iccid })).status,
    ).toBe(200);
    await sandbox.control.deliveriesSettled();
    expect(bodies.map((b) => JSON.parse(b.body).level)).toEqual(['1days', '90%']);
    for (const b of bodies) expect(b.signature).toBe(sign(b.body));
    await sandbox.close();
  });

  it('expiry alerts are clock-driven: 3 days, then 1 day before expiry', async () => {
    const { sandbox, clock, call } = await sandboxWithToken();
    await call('/notifications/opt-in', 'POST', { type: 'webhook_low_data', webhook_url: url });
    const control = sandbox.control;
    // An active SIM expiring more than 3 days from now, looked at once (baseline).
    const candidates = control.iccids({ status: 'ACTIVE' });
    const expiries = await Promise.all(
      candidates.map(async (iccid) => ({ iccid, usage: await (await call(`/sims/${iccid}/usage`)).json() })),
    );
    const target = expiries.find((e) => Date.parse(e.usage.data.expired_at) - clock.now() > 4 * 86_400_000);
    expect(target).toBeDefined();
    control.checkNotifications();
    await control.deliveriesSettled();
    bodies.length = 0;
    const expiresAt = Date.parse(target!.usage.data.expired_at);
    clock.set(expiresAt - 3 * 86_400_000 + 1000);
    control.checkNotifications();
    await control.deliveriesSettled();
    clock.set(expiresAt - 86_400_000 + 1000);
    control.checkNotifications();
    await control.deliveriesSettled();
    const mine = bodies.map((b) => JSON.parse(b.body)).filter((b) => b.iccid === target!.iccid);
    expect(mine.map((b) => b.level)).toEqual(['3days', '1days']);
    await sandbox.close();
  });

  it('a failed delivery is retried (documented assumption: after 1 s, 5 s, 25 s; shortened here)', async () => {
    const { sandbox, call } = await sandboxWithToken({ webhookRetryDelaysMs: [10, 10, 10] });
    await call('/notifications/opt-in', 'POST', { type: 'webhook_low_data', webhook_url: url });
    failNext = 2;
    const iccid = sandbox.control.iccids()[0]!;
    await call('/simulator/webhook', 'POST', { event: 'low_data_notification', type: 'expire_3', iccid });
    await sandbox.control.deliveriesSettled();
    const delivery = sandbox.control.deliveries().at(-1)!;
    expect(delivery.attempts.map((a) => a.status)).toEqual([503, 503, 200]);
    expect(delivery.delivered).toBe(true);
    expect(bodies).toHaveLength(1);
    await sandbox.close();
  });
});
