/**
 * Structured logs. Request lines carry method, redacted URL and id: never keys or bodies. JSON lines
 * for machines by default; readable lines (pino-pretty) for a person at a terminal.
 */
import { pino, type DestinationStream, type Logger } from 'pino';
import pinoPretty from 'pino-pretty';
import type { LogFormat } from './config.js';
import { stdoutDestination } from './stdout-log.js';
import { callKeyValues } from './http/call-keys.js';
import { redactUrl } from './http/server.js';
import type { IncomingHttpHeaders } from 'node:http';

/** `auto` means pretty when stdout is a terminal, JSON otherwise (a pipe, a file, a log collector). */
export function resolveLogFormat(format: LogFormat, isTty = Boolean(process.stdout.isTTY)): 'json' | 'pretty' {
  return format === 'auto' ? (isTty ? 'pretty' : 'json') : format;
}

/**
 * `destination` defaults to stdout; tests pass a stream to read what was logged. With `format`
 * pretty, lines are formatted in this thread and written synchronously, so none is lost at exit;
 * keys are redacted before formatting, exactly as in JSON.
 */
export function createLogger(level: string, destination?: DestinationStream, format: LogFormat = 'json'): Logger {
  const options = {
    level,
    base: { service: 'leadtrail' },
    redact: { paths: ['req.headers["x-lsq-secretkey"]', 'req.headers["x-lsq-accesskey"]', 'req.headers["x-api-key"]'], censor: '***' },
    serializers: {
      // The URL as sent (Fastify's `url` is the routing URL, its path lower-cased for LeadSquared's routes).
      // The call's own key values are masked wherever the URL holds them, as in the journal.
      req: (req: { method?: string; url?: string; originalUrl?: string; id?: string; query?: unknown; headers?: IncomingHttpHeaders }) => ({
        id: req.id,
        method: req.method,
        url: redactUrl(req.originalUrl ?? req.url ?? '', callKeyValues(req.query, req.headers)),
      }),
    },
  };
  if (resolveLogFormat(format) === 'pretty') {
    const pretty = pinoPretty({
      sync: true,
      destination: destination ?? 1,
      colorize: destination ? false : pinoPretty.isColorSupported && Boolean(process.stdout.isTTY),
      ignore: 'pid,hostname,service',
      translateTime: 'SYS:HH:MM:ss.l',
    });
    return pino(options, pretty);
  }
  return pino(options, destination ?? stdoutDestination());
}
