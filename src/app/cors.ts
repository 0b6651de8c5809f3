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
