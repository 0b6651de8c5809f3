/** Path → endpoint, by plain string operations (no framework, no regexes on the hot path). */
import type { SandboxEndpoint, SandboxFlavour } from './types.ts';

export interface RouteMatch {
  endpoint: SandboxEndpoint;
  flavour: SandboxFlavour;
  basePath: string;
  /** ICCID path parameter */
  iccid: string | null;
  orderId: string | null;
}

export type RouteResult = RouteMatch | { error: 404 | 405 };

const BASES: ReadonlyArray<readonly [prefix: string, flavour: SandboxFlavour, usageOnly: boolean]> = [
  ['/customer/v2/', 'pressone', false],
  // the spelling on PressOne's usage page
  ['/cusomter/v2/', 'pressone', true],
  ['/v2/', 'airalo', false],
];

const SIM_SUBRESOURCES = new Map<string, SandboxEndpoint>([
  ['usage', 'usage'],
  ['topups', 'topups'],
  ['packages', 'packages'],
]);

export function matchRoute(method: string, path: string): RouteResult {
  for (const [prefix, flavour, usageOnly] of BASES) {
    if (!path.startsWith(prefix)) continue;
    let rest = path.slice(prefix.length);
    if (rest.endsWith('/')) rest = rest.slice(0, -1);
    const parts = rest.split('/');
    const result = matchParts(method, parts, flavour, prefix.slice(0, -1));
    if (usageOnly && 'endpoint' in result && result.endpoint !== 'usage') return { error: 404 };
    return result;
  }
  return { error: 404 };
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function matchParts(method: string, parts: string[], flavour: SandboxFlavour, basePath: string): RouteResult {
  const route = (
    endpoint: SandboxEndpoint,
    expected: string,
    iccid: string | null = null,
    orderId: string | null = null,
  ): RouteResult => (method === expected ? { endpoint, flavour, basePath, iccid, orderId } : { error: 405 });
  const [first, second, third] = parts;
  if (parts.length === 1) {
    if (first === 'token') return route('token', 'POST');
    if (first === 'balance') return route('balance', 'GET');
    if (first === 'sims') return route('sims', 'GET');
    if (first === 'orders') return route('orders', 'GET');
  } else if (parts.length === 2 && second) {
    if (first === 'sims') return route('sim', 'GET', decode(second));
    if (first === 'orders' && second === 'topups') return route('submitTopup', 'POST');
    if (first === 'notifications' && second === 'opt-in')
      return method === 'GET' ? route('notificationSettings', 'GET') : route('notificationOptIn', 'POST');
    if (first === 'notifications' && second === 'opt-out') return route('notificationOptOut', 'POST');
    if (first === 'simulator' && second === 'webhook') return route('simulatorWebhook', 'POST');
    if (first === 'orders') return route('order', 'GET', null, decode(second));
  } else if (parts.length === 3 && first === 'sims' && second && third) {
    const endpoint = SIM_SUBRESOURCES.get(third);
    if (endpoint !== undefined) return route(endpoint, 'GET', decode(second));
  }
  return { error: 404 };
}
