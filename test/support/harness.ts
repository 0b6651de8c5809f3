/**
 * Test harness: a sandbox upstream on an ephemeral 127.0.0.1 port, a gateway pointed at it, one shared
 * manual clock, and a `gql` helper that goes through `yoga.fetch` (the whole Yoga pipeline, no socket).
 */

import type { SpanExporter } from '@opentelemetry/sdk-trace';
import type { Logger } from 'pino';
import { createGateway, type Gateway } from '../../src/app/gateway.ts';
import { createManualClock, type ManualClock } from '../../src/platform/clock.ts';
import { type GatewayConfig, loadConfig } from '../../src/platform/config.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { createSandbox, SANDBOX_CREDENTIALS, type Sandbox, type SandboxOptions } from '../../src/sandbox/index.ts';
import type { TypedDocumentString } from '../__generated__/graphql.ts';

export { SANDBOX_CREDENTIALS };

export const BASE_PATHS = { pressone: '/customer/v2', airalo: '/v2' } as const;
export type Flavour = keyof typeof BASE_PATHS;

/** One gateway of the harness, with its own request helpers. */
export interface Replica {
  gateway: Gateway;
  gql: Harness['gql'];
  fetch: Harness['fetch'];
}

export interface Harness {
  clock: ManualClock;
  sandbox: Sandbox;
  /** The first (or only) gateway; `gql` and `fetch` go to it. */
  gateway: Gateway;
  /** Every gateway, `options.replicas` of them (default 1), all on this sandbox, clock and configuration. */
  replicas: Replica[];
  /** Typed by the generated document (test/__generated__), or untyped for a plain string. */
  gql<TResult, TVariables>(
    document: TypedDocumentString<TResult, TVariables>,
    variables?: TVariables,
    headers?: Record<string, string>,
  ): Promise<GqlResult<TResult>>;
  gql(document: string, variables?: Record<string, unknown>, headers?: Record<string, string>): Promise<GqlResult<any>>;
  /** A raw request to the gateway app (path relative to its origin). */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  close(): Promise<void>;
}

export interface GqlResult<T> {
  status: number;
  data?: T;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, any> }[];
}

export async function startHarness(
  options: {
    flavour?: Flavour;
    env?: Record<string, string>;
    sandbox?: SandboxOptions;
    logger?: Logger;
    spanExporter?: SpanExporter;
    /** How many gateways to build on the one sandbox (e.g. 3 with `env.REDIS_URL` for an in-process fleet). */
    replicas?: number;
    /** Adjusts the configuration loaded from `env` (values no variable sets, e.g. explicit `upstreamLimits`). */
    configure?: (config: GatewayConfig) => GatewayConfig;
  } = {},
): Promise<Harness> {
  const flavour = options.flavour ?? 'pressone';
  const clock = createManualClock();
  const sandbox = await createSandbox({ clock, credentials: SANDBOX_CREDENTIALS, ...options.sandbox });
  // The flavour the gateway talks to is also the one whose limits its configuration holds (config.upstreamLimits).
  // No arrival margin by default: gateway and sandbox count on one manual clock, so windows compare exactly (a test
  // that drives the clock while calls are in flight sets UPSTREAM_LIMIT_MARGIN_MS itself).
  const loaded = loadConfig({
    LOG_LEVEL: 'silent',
    UPSTREAM_FLAVOR: flavour,
    UPSTREAM_LIMIT_MARGIN_MS: '0',
    ...options.env,
  });
  const config = options.configure ? options.configure(loaded) : loaded;
  const replicas = Array.from({ length: options.replicas ?? 1 }, () =>
    replica(
      createGateway({
        config,
        clock,
        logger: options.logger ?? createLogger('silent'),
        upstream: { url: `${sandbox.url}${BASE_PATHS[flavour]}`, flavour, ...SANDBOX_CREDENTIALS },
        ...(options.spanExporter ? { spanExporter: options.spanExporter } : {}),
      }),
    ),
  );
  const first = replicas[0]!;
  return {
    clock,
    sandbox,
    gateway: first.gateway,
    replicas,
    gql: first.gql,
    fetch: first.fetch,
    async close() {
      await Promise.all(replicas.map((r) => r.gateway.close()));
      await sandbox.close();
    },
  };
}

function replica(gateway: Gateway): Replica {
  return {
    gateway,
    async gql(
      query: string | TypedDocumentString<unknown, unknown>,
      variables?: unknown,
      headers: Record<string, string> = {},
    ) {
      const body = JSON.stringify({ query: query.toString(), variables });
      const response = await gateway.yoga.fetch('http://gateway.test/graphql', {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          'content-length': String(Buffer.byteLength(body)),
          ...headers,
        },
        body,
      });
      return { status: response.status, ...((await response.json()) as object) };
    },
    fetch: async (path, init) => gateway.yoga.fetch(new Request(`http://gateway.test${path}`, init)),
  } as Replica;
}
