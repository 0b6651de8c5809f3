/** POST token, and the bearer check every other endpoint runs first. */
import { invalid, json } from '../http-io.ts';
import type { SandboxResponse } from '../types.ts';
import type { RequestContext } from './context.ts';

export function unauthorized(message: string): SandboxResponse {
  return json(401, { data: [], meta: { message } });
}

export function token(ctx: RequestContext): SandboxResponse {
  const { state, body } = ctx;
  const errors: Record<string, string> = {};
  if (!body.client_id) errors.client_id = 'The client id field is required.';
  else if (body.client_id !== state.options.credentials.clientId)
    errors.client_id = 'The selected client id is invalid.';
  if (!body.client_secret) errors.client_secret = 'The client secret field is required.';
  if (!body.grant_type) errors.grant_type = 'The grant type field is required.';
  else if (body.grant_type !== 'client_credentials') errors.grant_type = 'The selected grant type is invalid.';
  if (Object.keys(errors).length > 0) return invalid(errors);
  if (body.client_secret !== state.options.credentials.clientSecret)
    return unauthorized('Client authentication failed');
  const issued = state.issueToken();
  return json(200, {
    data: { token_type: 'Bearer', expires_in: issued.expiresIn, access_token: issued.token },
    meta: { message: 'success' },
  });
}

/** null when the bearer token is good; otherwise the 401 to send. */
export function requireBearer(ctx: RequestContext): SandboxResponse | null {
  const verdict = ctx.state.checkBearer(ctx.headers.authorization);
  if (verdict === 'ok') return null;
  if (verdict === 'expired') return unauthorized('Authentication failed due to an expired token.');
  return unauthorized('This action is unauthorized.');
}
