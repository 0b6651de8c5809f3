/**
 * Who is calling. Two kinds of callers:
 * - partners' own servers, with an API key (`x-api-key`): full access, including the balance;
 * - end users, with a JWT bearer token (HS256 secret or a JWKS URL, verified with jose) whose claim lists the
 *   ICCIDs they own: they see and top up only those, and never the partner's balance.
 * With no auth configured (allowed only with the built-in sandbox) every caller is the sandbox partner.
 *
 * Contract: `authenticate` never throws for a missing/invalid credential; it returns an AuthFailure whose
 * `failure` says why (for the log, never for the client: every failure gets the same 401, see
 * UNAUTHENTICATED_MESSAGE) and never contains the credential itself. Which tokens are accepted: README.md,
 * "HTTP endpoints and authentication".
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createRemoteJWKSet, type JWTPayload, type JWTVerifyGetKey, jwtVerify } from 'jose';
import { type Clock, systemClock } from '../platform/clock.ts';
import type { GatewayConfig } from '../platform/config.ts';

/** The one message every authentication failure answers with; the reason goes to the log only. */
export const UNAUTHENTICATED_MESSAGE = 'Unauthenticated: send a valid x-api-key or Authorization: Bearer <jwt>.';

export type Principal =
  | { kind: 'partner'; id: string }
  /** An end user: may only see and buy for `iccids`. */
  | { kind: 'user'; id: string; iccids: ReadonlySet<string> };

export interface AuthFailure {
  failure: string;
}

export interface Authenticator {
  readonly open: boolean;
  authenticate(headers: Headers): Promise<Principal | AuthFailure>;
}

export const SANDBOX_PRINCIPAL: Principal = { kind: 'partner', id: 'partner:sandbox' };

const digest = (value: string) => createHash('sha256').update(value).digest();

/** True when `principal` may see `iccid` (partners see every SIM). */
export function canAccess(principal: Principal, iccid: string): boolean {
  return principal.kind === 'partner' || principal.iccids.has(iccid);
}

export function createAuthenticator(auth: GatewayConfig['auth'], clock: Clock = systemClock): Authenticator {
  const keys = auth.apiKeys.map(({ name, key }) => ({ name, hash: digest(key) }));
  const jwtKey: Uint8Array | JWTVerifyGetKey | undefined = auth.jwt?.secret
    ? new TextEncoder().encode(auth.jwt.secret)
    : auth.jwt?.jwksUrl
      ? createRemoteJWKSet(new URL(auth.jwt.jwksUrl))
      : undefined;
  const open = keys.length === 0 && jwtKey === undefined;

  async function verifyJwt(token: string): Promise<Principal | AuthFailure> {
    if (!jwtKey || !auth.jwt) return { failure: 'bearer tokens are not accepted' };
    let payload: JWTPayload;
    try {
      const options = {
        algorithms: auth.jwt.secret ? ['HS256'] : ['RS256', 'ES256', 'PS256', 'EdDSA'],
        ...(auth.jwt.issuer ? { issuer: auth.jwt.issuer } : {}),
        ...(auth.jwt.audience ? { audience: auth.jwt.audience } : {}),
        requiredClaims: ['sub', 'exp', 'iat'],
        maxTokenAge: auth.jwt.maxAgeSeconds,
        currentDate: new Date(clock.now()),
      };
      ({ payload } =
        jwtKey instanceof Uint8Array
          ? await jwtVerify(token, jwtKey, options)
          : await jwtVerify(token, jwtKey, options));
    } catch (error) {
      // jose's codes and messages name the failed check (signature, exp, iat, iss, aud…), never the token.
      const { code, message } = error as { code?: string; message?: string };
      return { failure: `invalid token: ${code ?? 'ERR_UNKNOWN'} ${message ?? ''}`.trim() };
    }
    if (!payload.sub) return { failure: 'token has no subject' };
    const claim = payload[auth.jwt.iccidsClaim];
    const iccids = Array.isArray(claim) ? claim : typeof claim === 'string' ? claim.split(',') : [];
    return {
      kind: 'user',
      id: `user:${payload.sub}`,
      iccids: new Set(iccids.filter((i): i is string => typeof i === 'string').map((i) => i.trim())),
    };
  }

  return {
    open,
    async authenticate(headers) {
      if (open) return SANDBOX_PRINCIPAL;
      const apiKey = headers.get('x-api-key');
      if (apiKey) {
        const hash = digest(apiKey);
        const match = keys.find((k) => timingSafeEqual(k.hash, hash));
        // The entry's name, never the key, is the identity: idempotency scope and order references derive from
        // `partner:<name>`, so rotating a key under the same name keeps them and renaming the entry starts afresh.
        return match ? { kind: 'partner', id: `partner:${match.name}` } : { failure: 'unknown API key' };
      }
      const authorization = headers.get('authorization');
      const bearer = authorization?.match(/^Bearer\s+(\S+)$/i)?.[1];
      if (bearer) return verifyJwt(bearer);
      return { failure: 'missing credentials: send x-api-key or Authorization: Bearer <jwt>' };
    },
  };
}
