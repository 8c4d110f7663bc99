/** Structured JSON logs. Request lines carry method, redacted URL and id: never keys or bodies. */
import { pino, type Logger } from 'pino';
import { redactUrl } from './http/server.js';

export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'leadtrail' },
    redact: { paths: ['req.headers["x-lsq-secretkey"]', 'req.headers["x-lsq-accesskey"]', 'req.headers["x-api-key"]'], censor: '***' },
    serializers: {
      req: (req: { method?: string; url?: string; id?: string }) => ({ id: req.id, method: req.method, url: redactUrl(req.url ?? '') }),
    },
  });
}
