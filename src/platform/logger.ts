/**
 * The process logger: one structured line per operation, secrets redacted wherever they appear.
 * Formats: `json` (one object per line, for log collectors) or `pretty` (pino-pretty, for a person at a terminal).
 * Redaction happens in pino before either format sees the line, so it holds in both.
 */
import { type Logger, pino } from 'pino';
import pretty from 'pino-pretty';
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

export type LogFormat = 'pretty' | 'json';

/** LOG_FORMAT when set; otherwise pretty when stdout is a terminal, JSON when it is a pipe or a file. */
export function resolveLogFormat(configured: LogFormat | undefined, stdoutIsTty: boolean): LogFormat {
  return configured ?? (stdoutIsTty ? 'pretty' : 'json');
}

export interface LoggerOptions {
  /** `json` (default) or `pretty` (human-readable, for a terminal). */
  format?: LogFormat;
  /** Every line written while a span is active carries its `trace_id` and `span_id` (tracing on). */
  traceIds?: boolean;
}

export function createLogger(
  level: string,
  destination?: pino.DestinationStream,
  { format = 'json', traceIds = false }: LoggerOptions = {},
): Logger {
  const options = {
    level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    base: { service: 'esim-gateway' },
    ...(traceIds ? { mixin: traceLogFields } : {}),
  };
  if (format === 'json') return pino(options, destination);
  const colorize = destination === undefined && process.stdout.isTTY === true;
  // In-process and synchronous (no worker thread): lines are written in order and none is lost at exit.
  const stream = pretty({
    colorize,
    sync: true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,service',
    ...(destination ? { destination: destination as NodeJS.WritableStream } : {}),
  });
  return pino(options, stream);
}
