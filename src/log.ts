/** Structured JSON logs. Request lines carry method, redacted URL and id: never keys or bodies. */
import { pino, type DestinationStream, type Logger } from 'pino';
import { redactUrl } from './http/server.js';

/** `destination` defaults to stdout; tests pass a stream to read what was logged. */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service: 'leadtrail' },
    redact: { paths: ['req.headers["x-lsq-secretkey"]', 'req.headers["x-lsq-accesskey"]', 'req.headers["x-api-key"]'], censor: '***' },
    serializers: {
      req: (req: { method?: string; url?: string; id?: string }) => ({ id: req.id, method: req.method, url: redactUrl(req.url ?? '') }),
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
