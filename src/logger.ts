/** The process logger: one structured line per operation, secrets redacted wherever they appear. */
import { pino, type Logger } from 'pino';
import { traceLogFields } from './tracing.ts';

export const REDACTED_PATHS = [
  'authorization',
  '*.authorization',
  'headers.authorization',
  '*.headers.authorization',
  'req.headers.authorization',
  'access_token',
  '*.access_token',
  'accessToken',
  '*.accessToken',
  'client_secret',
  '*.client_secret',
  'clientSecret',
  '*.clientSecret',
  'upstream.clientSecret',
];

/** `traceIds`: every line written while a span is active carries its `trace_id` and `span_id` (tracing on). */
export function createLogger(level: string, destination?: pino.DestinationStream, options: { traceIds?: boolean } = {}): Logger {
  return pino(
    { level, redact: { paths: REDACTED_PATHS, censor: '[redacted]' }, base: { service: 'esim-gateway' }, ...(options.traceIds ? { mixin: traceLogFields } : {}) },
    destination,
  );
}
