/** `POST token` (client credentials) → the access token and its lifetime; token.ts decides how long to use it. */
import { z } from 'zod';
import { optNumber, optString } from './conversions.ts';

export const tokenResponseSchema = z
  .object({ data: z.object({ access_token: z.string().min(1), expires_in: optNumber, token_type: optString }) })
  .transform(({ data }) => ({ accessToken: data.access_token, expiresInSeconds: data.expires_in }));
