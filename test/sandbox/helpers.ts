import { createManualClock, type ManualClock } from '../../src/platform/clock.ts';
import { createSandbox, SANDBOX_CREDENTIALS, type Sandbox, type SandboxOptions } from '../../src/sandbox/index.ts';

export const BASES = { pressone: '/customer/v2', airalo: '/v2' } as const;
export const FLAVOURS = ['pressone', 'airalo'] as const;
/** A valid token request body for the sandbox's default credentials. */
export const TOKEN_FIELDS = {
  client_id: SANDBOX_CREDENTIALS.clientId,
  client_secret: SANDBOX_CREDENTIALS.clientSecret,
  grant_type: 'client_credentials',
};

export interface Harness {
  sandbox: Sandbox;
  clock: ManualClock;
  token: string;
  get(path: string, token?: string | null): Promise<{ status: number; headers: Headers; text: string; json: any }>;
  post(
    path: string,
    body: unknown,
    token?: string | null,
  ): Promise<{ status: number; headers: Headers; text: string; json: any }>;
}

export async function fetchToken(url: string): Promise<string> {
  const res = await fetch(`${url}/v2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify(TOKEN_FIELDS),
  });
  const body = (await res.json()) as { data: { access_token: string } };
  return body.data.access_token;
}

async function read(res: Response): Promise<{ status: number; headers: Headers; text: string; json: any }> {
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

export async function startHarness(options: SandboxOptions = {}): Promise<Harness> {
  const clock = createManualClock();
  const sandbox = await createSandbox({ clock, ...options });
  const token = await fetchToken(sandbox.url);
  sandbox.control.resetCalls();
  const auth = (t: string | null | undefined): Record<string, string> =>
    t === null ? {} : { authorization: `Bearer ${t ?? token}` };
  return {
    sandbox,
    clock,
    token,
    get: async (path, t) =>
      read(await fetch(`${sandbox.url}${path}`, { headers: { accept: 'application/json', ...auth(t) } })),
    post: async (path, body, t) =>
      read(
        await fetch(`${sandbox.url}${path}`, {
          method: 'POST',
          headers: { accept: 'application/json', 'content-type': 'application/json', ...auth(t) },
          body: JSON.stringify(body),
        }),
      ),
  };
}
