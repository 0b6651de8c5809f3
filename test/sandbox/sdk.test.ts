/**
 * Talks to the sandbox the way the official Airalo Node SDK does: JSON bodies, an `airalo-signature`
 * header (hex HMAC-SHA512 of the compact JSON with `/` escaped as `\/`, keyed with the client secret).
 */
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/platform/clock.ts';
import { createSandbox, SANDBOX_CREDENTIALS, type Sandbox } from '../../src/sandbox/index.ts';

const { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET } = SANDBOX_CREDENTIALS;

function signature(payload: unknown): string {
  const body = JSON.stringify(payload).replace(/\//g, '\\/');
  return createHmac('sha512', CLIENT_SECRET).update(body).digest('hex');
}

async function sdkPost(url: string, payload: Record<string, unknown>, token?: string): Promise<Response> {
  const body = JSON.stringify(payload).replace(/\//g, '\\/');
  return fetch(url, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      Accept: 'application/json',
      'airalo-signature': signature(payload),
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
    },
    body,
  });
}

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await createSandbox({ clock: createManualClock() });
});
afterAll(() => sandbox.close());

describe('Airalo Node SDK style client', () => {
  it('gets a token, reads the top-up list and buys a top-up with signed JSON bodies', async () => {
    const base = `${sandbox.url}/v2`;
    const tokenRes = await sdkPost(`${base}/token`, {
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      grant_type: 'client_credentials',
    });
    expect(tokenRes.status).toBe(200);
    const token = ((await tokenRes.json()) as any).data.access_token as string;

    const iccid = sandbox.control
      .iccids({ status: 'ACTIVE' })
      .find((i) => sandbox.control.topupPackageIds(i).length > 0)!;
    const list = await fetch(`${base}/sims/${iccid}/topups`, {
      headers: { Accept: 'application/json', Authorization: `Bearer ${token}` },
    });
    const packageId = ((await list.json()) as any).data[0].id as string;

    const description = 'sdk/order 1'; // contains a slash: the SDK escapes it as \/ in the JSON it sends
    const order = await sdkPost(`${base}/orders/topups`, { package_id: packageId, iccid, description }, token);
    expect(order.status).toBe(200);
    const data = ((await order.json()) as any).data;
    expect(data).toMatchObject({ package_id: packageId, description, type: 'topup' });
    expect(sandbox.control.orders()).toEqual([expect.objectContaining({ iccid, packageId, description })]);
  });
});
