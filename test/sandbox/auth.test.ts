import { afterEach, describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/platform/clock.ts';
import { createSandbox, SANDBOX_CREDENTIALS, type Sandbox } from '../../src/sandbox/index.ts';
import { BASES, FLAVOURS } from './helpers.ts';

const { clientId: ID, clientSecret: SECRET } = SANDBOX_CREDENTIALS;
let sandbox: Sandbox | undefined;
afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
});

async function start(options = {}) {
  const clock = createManualClock();
  sandbox = await createSandbox({ clock, ...options });
  return { sandbox, clock };
}

function postToken(url: string, body: BodyInit, contentType?: string) {
  return fetch(url, { method: 'POST', headers: contentType ? { 'content-type': contentType } : {}, body });
}

describe('POST token', () => {
  for (const flavour of FLAVOURS) {
    it(`issues a bearer token from JSON, urlencoded and multipart bodies (${flavour})`, async () => {
      const { sandbox } = await start();
      const url = `${sandbox.url}${BASES[flavour]}/token`;
      const fields = { client_id: ID, client_secret: SECRET, grant_type: 'client_credentials' };
      const form = new FormData();
      for (const [k, v] of Object.entries(fields)) form.set(k, v);
      const responses = [
        await postToken(url, JSON.stringify(fields), 'application/json'),
        await postToken(url, new URLSearchParams(fields).toString(), 'application/x-www-form-urlencoded'),
        await fetch(url, { method: 'POST', body: form }),
      ];
      for (const res of responses) {
        expect(res.status).toBe(200);
        const body = (await res.json()) as any;
        expect(body.data.token_type).toBe('Bearer');
        expect(body.data.expires_in).toBe(31622400);
        expect(body.data.access_token).toMatch(/^[0-9a-f]{64}$/);
        expect(body.meta.message).toBe('success');
      }
    });
  }

  it('answers 422 for an unknown client id and 401 for a wrong secret, with the documented bodies', async () => {
    const { sandbox } = await start();
    const unknown = await postToken(
      `${sandbox.url}/v2/token`,
      JSON.stringify({ client_id: 'nope', client_secret: SECRET, grant_type: 'client_credentials' }),
      'application/json',
    );
    expect(unknown.status).toBe(422);
    expect(await unknown.json()).toEqual({
      data: { client_id: 'The selected client id is invalid.' },
      meta: { message: 'the parameter is invalid' },
    });
    const wrong = await postToken(
      `${sandbox.url}/customer/v2/token`,
      JSON.stringify({ client_id: ID, client_secret: 'bad', grant_type: 'client_credentials' }),
      'application/json',
    );
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toEqual({ data: [], meta: { message: 'Client authentication failed' } });
    const missing = await postToken(`${sandbox.url}/v2/token`, '{}', 'application/json');
    expect(missing.status).toBe(422);
    expect(((await missing.json()) as any).data.client_id).toBe('The client id field is required.');
  });

  it('limits the token endpoint to 5 per minute (PressOne), then lets it through after the window', async () => {
    const { sandbox, clock } = await start();
    const body = JSON.stringify({ client_id: ID, client_secret: SECRET, grant_type: 'client_credentials' });
    for (let i = 0; i < 5; i++)
      expect((await postToken(`${sandbox.url}/customer/v2/token`, body, 'application/json')).status).toBe(200);
    clock.advance(20_000);
    const limited = await postToken(`${sandbox.url}/customer/v2/token`, body, 'application/json');
    expect(limited.status).toBe(429);
    expect(await limited.json()).toEqual({ message: 'Too Many Attempts.' });
    expect(limited.headers.get('retry-after')).toBe('40');
    expect(limited.headers.get('x-ratelimit-limit')).toBe('5');
    expect(limited.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(Number(limited.headers.get('x-ratelimit-reset'))).toBe(Math.ceil((clock.now() + 40_000) / 1000));
    clock.advance(40_000);
    expect((await postToken(`${sandbox.url}/customer/v2/token`, body, 'application/json')).status).toBe(200);
    expect(sandbox.control.countCalls({ endpoint: 'token', status: 429 })).toBe(1);
  });

  it('honours a configured token lifetime and limit', async () => {
    const { sandbox, clock } = await start({ tokenLifetimeSeconds: 60, tokenLimitPerMinute: 1 });
    const body = JSON.stringify({ client_id: ID, client_secret: SECRET, grant_type: 'client_credentials' });
    const res = await postToken(`${sandbox.url}/v2/token`, body, 'application/json');
    const token = ((await res.json()) as any).data;
    expect(token.expires_in).toBe(60);
    expect((await postToken(`${sandbox.url}/v2/token`, body, 'application/json')).status).toBe(429);
    const ok = await fetch(`${sandbox.url}/v2/balance`, { headers: { authorization: `Bearer ${token.access_token}` } });
    expect(ok.status).toBe(200);
    clock.advance(60_000);
    const expired = await fetch(`${sandbox.url}/v2/balance`, {
      headers: { authorization: `Bearer ${token.access_token}` },
    });
    expect(expired.status).toBe(401);
    expect(((await expired.json()) as any).meta.message).toMatch(/Authentication failed.*expired token/);
  });

  it('expires every token issued so far on POST /__sandbox/tokens/expire (the upstream side of an expiry)', async () => {
    const { sandbox } = await start();
    const body = JSON.stringify({ client_id: ID, client_secret: SECRET, grant_type: 'client_credentials' });
    const token = ((await (await postToken(`${sandbox.url}/v2/token`, body, 'application/json')).json()) as any).data
      .access_token;
    const balance = () => fetch(`${sandbox.url}/v2/balance`, { headers: { authorization: `Bearer ${token}` } });
    expect((await balance()).status).toBe(200);
    expect((await fetch(`${sandbox.url}/__sandbox/tokens/expire`, { method: 'POST' })).status).toBe(200);
    const expired = await balance();
    expect(expired.status).toBe(401);
    expect(((await expired.json()) as any).meta.message).toMatch(/expired token/);
    const fresh = ((await (await postToken(`${sandbox.url}/v2/token`, body, 'application/json')).json()) as any).data
      .access_token;
    const ok = await fetch(`${sandbox.url}/v2/balance`, { headers: { authorization: `Bearer ${fresh}` } });
    expect(ok.status).toBe(200);
  });
});

describe('bearer token on every other endpoint', () => {
  const paths = (iccid: string) => [
    ['GET', 'balance'],
    ['GET', 'sims'],
    ['GET', `sims/${iccid}`],
    ['GET', `sims/${iccid}/usage`],
    ['GET', `sims/${iccid}/topups`],
    ['GET', `sims/${iccid}/packages`],
    ['POST', 'orders/topups'],
    ['GET', 'orders'],
    ['GET', 'orders/9001'],
  ];
  for (const flavour of FLAVOURS) {
    it(`answers 401 to a missing or invalid token (${flavour})`, async () => {
      const { sandbox } = await start();
      const iccid = sandbox.control.iccids()[0]!;
      for (const [method, path] of paths(iccid)) {
        for (const headers of [
          {} as Record<string, string>,
          { authorization: 'Bearer not-a-token' },
          { authorization: 'Basic abc' },
        ]) {
          const res = await fetch(`${sandbox.url}${BASES[flavour]}/${path}`, { method, headers });
          expect(res.status, `${method} ${path}`).toBe(401);
          expect(((await res.json()) as any).data).toEqual([]);
        }
      }
      expect(sandbox.control.countCalls({ status: 401, flavour })).toBe(27);
    });
  }
});
