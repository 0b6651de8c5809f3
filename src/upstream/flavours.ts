/**
 * Endpoint name → request path. The two flavours of the partner API share endpoints and payloads and differ in base
 * path (and in the package-history envelope, which models/history.ts tells apart by shape, not by flavour). Operators
 * may override any endpoint's path (README "Configuration", `UPSTREAM_PATH_<ENDPOINT>`), because the published docs
 * disagree with themselves (`/cusomter/v2/…`, `v1/sims/:iccid/…`). The names themselves are listed once, in
 * src/platform/upstream-vocabulary.ts (config.ts needs them too); the tables here are keyed by them.
 */
import { type Flavour, UPSTREAM_ENDPOINTS, type UpstreamEndpoint } from '../platform/upstream-vocabulary.ts';

export { FLAVOURS, type Flavour, UPSTREAM_ENDPOINTS, type UpstreamEndpoint } from '../platform/upstream-vocabulary.ts';

export const flavourBasePaths: Readonly<Record<Flavour, string>> = {
  pressone: '/customer/v2',
  airalo: '/v2',
};

/** Path templates relative to the flavour base path; `{iccid}` and `{id}` are filled in per call. */
export const defaultEndpointPaths: Readonly<Record<UpstreamEndpoint, string>> = {
  token: '/token',
  balance: '/balance',
  sims: '/sims',
  sim: '/sims/{iccid}',
  usage: '/sims/{iccid}/usage',
  topups: '/sims/{iccid}/topups',
  packages: '/sims/{iccid}/packages',
  submitTopup: '/orders/topups',
  orders: '/orders',
  order: '/orders/{id}',
  // Airalo only (PressOne documents no webhooks); `notificationSettings` is the GET on the opt-in path.
  notificationOptIn: '/notifications/opt-in',
  notificationOptOut: '/notifications/opt-out',
  notificationSettings: '/notifications/opt-in',
};

export interface EndpointResolver {
  /** The origin every request goes to (one Pool per origin). */
  readonly origin: string;
  /** Absolute path (with query string) for one call. Parameters are percent-encoded. */
  path(
    endpoint: UpstreamEndpoint,
    params?: { iccid?: string; id?: string },
    query?: Record<string, string | number | undefined>,
  ): string;
}

/**
 * Builds the resolver for `baseUrl` (origin + base path; a bare origin gets the flavour's base path appended) and the
 * operator's overrides. An override is relative to the base URL (`/sims/{iccid}/usage`) or an absolute URL on the same
 * origin (`https://host/cusomter/v2/sims/{iccid}/usage`) for the case where the base path itself differs.
 */
export function createEndpointResolver(
  baseUrl: string,
  flavour: Flavour,
  overrides: Partial<Record<UpstreamEndpoint, string>> = {},
): EndpointResolver {
  const base = new URL(baseUrl);
  if (base.protocol !== 'http:' && base.protocol !== 'https:')
    throw new TypeError(`upstream baseUrl must be http(s): ${base.protocol}`);
  const origin = base.origin;
  let basePath = base.pathname.replace(/\/+$/, '');
  if (basePath === '') basePath = flavourBasePaths[flavour];

  const templates = {} as Record<UpstreamEndpoint, string>;
  for (const endpoint of UPSTREAM_ENDPOINTS) {
    const override = overrides[endpoint];
    if (override === undefined || override === '') {
      templates[endpoint] = basePath + defaultEndpointPaths[endpoint];
    } else if (/^https?:\/\//i.test(override)) {
      // Parse with the placeholders protected: URL would percent-encode the braces.
      const url = new URL(override.replaceAll('{', '%7B').replaceAll('}', '%7D'));
      if (url.origin !== origin) throw new TypeError(`upstream path override for ${endpoint} must stay on ${origin}`);
      templates[endpoint] = (url.pathname + url.search).replaceAll('%7B', '{').replaceAll('%7D', '}');
    } else {
      templates[endpoint] = basePath + (override.startsWith('/') ? override : `/${override}`);
    }
  }

  // Each template split once at its placeholders: a path is then joined from literal parts and encoded values.
  const compiled = {} as Record<UpstreamEndpoint, readonly (string | { param: 'iccid' | 'id' })[]>;
  for (const endpoint of UPSTREAM_ENDPOINTS)
    compiled[endpoint] = templates[endpoint]
      .split(/(\{(?:iccid|id)\})/)
      .filter((part) => part !== '')
      .map((part) => (part === '{iccid}' ? { param: 'iccid' } : part === '{id}' ? { param: 'id' } : part));

  return {
    origin,
    path(endpoint, params, query) {
      let path = '';
      for (const part of compiled[endpoint]) {
        if (typeof part === 'string') {
          path += part;
          continue;
        }
        const value = params?.[part.param];
        if (value === undefined || value === '')
          throw new TypeError(`upstream ${endpoint}: missing path parameter ${part.param}`);
        path += encodeURIComponent(value);
      }
      if (query === undefined) return path;
      const search = new URLSearchParams();
      for (const [key, value] of Object.entries(query)) if (value !== undefined) search.append(key, String(value));
      const qs = search.toString();
      if (!qs) return path;
      return path + (path.includes('?') ? '&' : '?') + qs;
    },
  };
}
