import type { IncomingHttpHeaders } from 'node:http';
import type { SandboxState } from '../state.ts';
import type { SandboxEndpoint, SandboxFlavour, SandboxResponse } from '../types.ts';

export interface RequestContext {
  state: SandboxState;
  endpoint: SandboxEndpoint;
  flavour: SandboxFlavour;
  /** The ICCID in the path (sim-scoped endpoints), the body (top-up) or `filter[iccid]` (orders). */
  iccid: string | null;
  /** Path parameter of GET orders/{id}. */
  orderId: string | null;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** Parsed request body fields (POST only). */
  body: Record<string, string>;
  /** e.g. http://127.0.0.1:4010 */
  origin: string;
  /** e.g. /customer/v2 */
  basePath: string;
  /** Request path without the query string. */
  path: string;
  /** The caller's IP (per-IP limits). */
  clientIp: string;
}

export type Handler = (ctx: RequestContext) => SandboxResponse | Promise<SandboxResponse>;
