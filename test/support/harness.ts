/**
 * Test harness: a sandbox upstream on an ephemeral 127.0.0.1 port, a gateway pointed at it, one shared
 * manual clock, and a `gql` helper that goes through `yoga.fetch` (the whole Yoga pipeline, no socket).
 */
import type { TypedDocumentString } from '../__generated__/graphql.ts';
import { createManualClock, type ManualClock } from '../../src/clock.ts';
import { loadConfig } from '../../src/config.ts';
import { createGateway, type Gateway } from '../../src/gateway.ts';
import { createLogger } from '../../src/logger.ts';
import { createSandbox, type Sandbox, type SandboxOptions } from '../../src/sandbox/index.ts';

export const SANDBOX_CREDENTIALS = { clientId: 'sandbox-client-id', clientSecret: 'sandbox-client-secret' };
export const BASE_PATHS = { pressone: '/customer/v2', airalo: '/v2' } as const;
export type Flavour = keyof typeof BASE_PATHS;

export interface Harness {
  clock: ManualClock;
  sandbox: Sandbox;
  gateway: Gateway;
  /** Typed by the generated document (test/__generated__), or untyped for a plain string. */
  gql<TResult, TVariables>(document: TypedDocumentString<TResult, TVariables>, variables?: TVariables): Promise<GqlResult<TResult>>;
  gql(document: string, variables?: Record<string, unknown>): Promise<GqlResult<any>>;
  close(): Promise<void>;
}

export interface GqlResult<T> {
  status: number;
  data?: T;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, any> }[];
}

export async function startHarness(
  options: { flavour?: Flavour; env?: Record<string, string>; sandbox?: SandboxOptions } = {},
): Promise<Harness> {
  const flavour = options.flavour ?? 'pressone';
  const clock = createManualClock();
  const sandbox = await createSandbox({ clock, credentials: SANDBOX_CREDENTIALS, ...options.sandbox });
  const config = loadConfig({ LOG_LEVEL: 'silent', ...options.env });
  const gateway = createGateway({
    config,
    clock,
    logger: createLogger('silent'),
    upstream: { url: `${sandbox.url}${BASE_PATHS[flavour]}`, flavour, ...SANDBOX_CREDENTIALS },
  });
  return {
    clock,
    sandbox,
    gateway,
    async gql(query: string | TypedDocumentString<unknown, unknown>, variables?: unknown) {
      const response = await gateway.yoga.fetch('http://gateway.test/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ query: query.toString(), variables }),
      });
      return { status: response.status, ...((await response.json()) as object) };
    },
    async close() {
      await gateway.close();
      await sandbox.close();
    },
  };
}
