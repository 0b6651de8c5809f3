/**
 * The CORS policy given to Yoga: an allowed origin is reflected (with `Vary: Origin`), never with credentials
 * (callers authenticate with headers, not cookies); any other origin gets no CORS headers at all, so browsers refuse
 * to let its pages read the answer. The response cache keys on Origin, so a stored answer carries the same headers.
 * See README.md, "HTTP endpoints and authentication" (CORS).
 */
export function corsPolicy(origins: '*' | string[]) {
  return (request: Request) => {
    const origin = request.headers.get('origin');
    if (origin === null || (origins !== '*' && !origins.includes(origin))) return false as const;
    // `origin: '*'` makes Yoga reflect the request's Origin and add `Vary: Origin`; the check above allowed it.
    return { origin: '*', credentials: false };
  };
}

/**
 * The headers Yoga's CORS plugin adds to an answer under `corsPolicy(origins)` (whatwg-node's
 * getCORSHeadersByRequestAndOptions for `{ origin: '*', credentials: false }`), for the edge's direct execution:
 * none for a missing or refused origin; else the origin reflected with `Vary: Origin`, and the preflight request
 * method and headers echoed (the latter adding `Access-Control-Request-Headers` to `Vary`).
 * test/graphql/http-direct.test.ts compares the two.
 */
export function corsResponseHeaders(origins: '*' | string[], headers: Headers): [string, string][] {
  const origin = headers.get('origin');
  if (origin === null || (origins !== '*' && !origins.includes(origin))) return [];
  const out: [string, string][] = [['Access-Control-Allow-Origin', origin]];
  let vary = 'Origin';
  const method = headers.get('access-control-request-method');
  if (method) out.push(['Access-Control-Allow-Methods', method]);
  const requested = headers.get('access-control-request-headers');
  if (requested) {
    out.push(['Access-Control-Allow-Headers', requested]);
    vary += ', Access-Control-Request-Headers';
  }
  out.splice(1, 0, ['Vary', vary]);
  return out;
}
