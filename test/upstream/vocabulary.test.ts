/**
 * One list each of flavours, endpoints and SIM statuses: everything keyed by them covers every entry. Where they live
 * follows the layer rule, which test/architecture/layers.test.ts checks.
 */
import { describe, expect, it } from 'vitest';
import { schema } from '../../src/graphql/schema/index.ts';
import { loadConfig, pathOverrideVariable } from '../../src/platform/config.ts';
import { createEndpointResolver } from '../../src/upstream/flavours.ts';
import {
  defaultEndpointPaths,
  FLAVOURS,
  flavourBasePaths,
  SIM_STATUSES,
  UPSTREAM_ENDPOINTS,
} from '../../src/upstream/index.ts';
import { usageResponseSchema } from '../../src/upstream/models/index.ts';

describe('upstream vocabulary', () => {
  it('every endpoint has a default path and an UPSTREAM_PATH_<ENDPOINT> override that reaches the request path', () => {
    expect(Object.keys(defaultEndpointPaths).sort()).toEqual([...UPSTREAM_ENDPOINTS].sort());
    const env = Object.fromEntries(
      UPSTREAM_ENDPOINTS.map((e) => [pathOverrideVariable(e), `/custom/${e}/{iccid}/{id}`]),
    );
    const paths = loadConfig(env).upstreamPaths;
    const resolver = createEndpointResolver('https://partners.example/v2', 'airalo', paths);
    for (const endpoint of UPSTREAM_ENDPOINTS) {
      expect(resolver.path(endpoint, { iccid: '89', id: '7' })).toBe(`/v2/custom/${endpoint}/89/7`);
    }
  });

  it('every flavour is accepted by UPSTREAM_FLAVOR and has a base path; anything else is a configuration error', () => {
    expect(Object.keys(flavourBasePaths).sort()).toEqual([...FLAVOURS].sort());
    for (const flavour of FLAVOURS) {
      const config = loadConfig({
        UPSTREAM_FLAVOR: flavour,
        UPSTREAM_URL: 'https://partners.example/x',
        UPSTREAM_CLIENT_ID: 'i',
        UPSTREAM_CLIENT_SECRET: 's',
        AUTH_API_KEYS: 'backend:0123456789abcdef01234567',
      });
      expect(config.upstream?.flavour).toBe(flavour);
      expect(createEndpointResolver('https://partners.example', flavour).path('balance')).toBe(
        `${flavourBasePaths[flavour]}/balance`,
      );
    }
    expect(() => loadConfig({ UPSTREAM_FLAVOR: 'esimgo' })).toThrow(/UPSTREAM_FLAVOR/);
  });

  it('every SIM status is read from the upstream’s spellings and is a value of the GraphQL SimStatus enum', () => {
    const graphqlValues = schema.getType('SimStatus')?.toConfig() as { values: Record<string, unknown> };
    expect(Object.keys(graphqlValues.values).sort()).toEqual([...SIM_STATUSES].sort());
    for (const status of SIM_STATUSES) {
      const spelled = status.toLowerCase().replace('_', ' ');
      expect(usageResponseSchema.parse({ data: { status: spelled } }).status).toBe(status);
    }
    expect(usageResponseSchema.parse({ data: { status: 'suspended' } }).status).toBe('UNKNOWN');
  });
});
