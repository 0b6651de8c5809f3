/**
 * Authenticates every GraphQL request in Yoga's first user hook, before its body is read or parsed: a caller without
 * valid credentials learns nothing about the schema (no parse or validation message) and costs no parsing. Every
 * failure gets the same 401 body; the reason is logged (never the credential). The principal is handed to the context
 * through `principals`. Only hooks placed before this one (CORS preflights, `/health`, `/ready`, the GraphiQL page,
 * which holds no data) answer without credentials. See README.md, "HTTP endpoints and authentication".
 */
import type { Plugin } from 'graphql-yoga';
import { type Principal, UNAUTHENTICATED_MESSAGE } from '../../domain/auth.ts';
import type { ErrorCode } from '../../domain/errors.ts';
import type { GatewayServices } from '../context.ts';

export function useAuthentication(services: GatewayServices, principals: WeakMap<Request, Principal>): Plugin {
  const body = JSON.stringify({
    errors: [{ message: UNAUTHENTICATED_MESSAGE, extensions: { code: 'UNAUTHENTICATED' satisfies ErrorCode } }],
  });
  return {
    async onRequest({ request, endResponse, fetchAPI }) {
      const principal = await services.authenticator.authenticate(request.headers);
      if ('failure' in principal) {
        services.logger.info({ reason: principal.failure, method: request.method }, 'authentication failed');
        endResponse(
          new fetchAPI.Response(body, {
            status: 401,
            headers: { 'content-type': 'application/json; charset=utf-8', 'www-authenticate': 'Bearer' },
          }),
        );
        return;
      }
      principals.set(request, principal);
    },
  };
}
