/**
 * Peer (d): a generated REST-to-GraphQL gateway. GraphQL Mesh composes a supergraph from the public Airalo OpenAPI
 * export (no hand-written resolvers), served by Hive Gateway. The upstream origin and token are interpolated from
 * the environment at runtime (`{env.…}`), so one composed file serves every run. The export's paths carry `/v2`,
 * so this peer talks to the sandbox's Airalo flavour (same data; bench/run.ts gives it the limits of `/customer/v2`).
 */
import { defineConfig } from '@graphql-mesh/compose-cli';
import { loadOpenAPISubgraph } from '@omnigraph/openapi';

export const composeConfig = defineConfig({
  subgraphs: [
    {
      sourceHandler: loadOpenAPISubgraph('Airalo', {
        source: './airalo-partner-api.openapi.json',
        endpoint: '{env.UPSTREAM_ORIGIN}',
        operationHeaders: { Authorization: 'Bearer {env.UPSTREAM_TOKEN}', Accept: 'application/json' },
      }),
    },
  ],
});
