import type { IncomingHttpHeaders } from 'node:http';

/**
 * The key values a call sent, wherever it may have sent them: its query's `accessKey` and
 * `secretKey` (in any case: parseQuery lower-cases names, but Fastify reads the query of a call to
 * an unknown path with its own parser, which does not) and the `x-LSQ-AccessKey`,
 * `x-LSQ-SecretKey` and `x-api-key` headers, each a string or a list. Whatever they are (valid or
 * not), they are masked wherever else the call's URL or bodies hold them: in the journal
 * (journal-hook.ts) and in log lines (server.ts redactUrl).
 */
export function callKeyValues(query: unknown, headers: IncomingHttpHeaders | undefined): string[] {
  const q = (typeof query === 'object' && query !== null ? query : {}) as Record<string, unknown>;
  const keys: string[] = [];
  for (const v of [param(q, 'accesskey'), param(q, 'secretkey'), headers?.['x-lsq-accesskey'], headers?.['x-lsq-secretkey'], headers?.['x-api-key']]) {
    if (typeof v === 'string') keys.push(v);
    else if (Array.isArray(v)) for (const one of v) if (typeof one === 'string') keys.push(one);
  }
  return keys;
}

/** The query parameter `lower` (a lower-case name), under that name or another spelling of it. */
function param(q: Record<string, unknown>, lower: string): unknown {
  if (lower in q) return q[lower];
  for (const k of Object.keys(q)) if (k.toLowerCase() === lower) return q[k];
  return undefined;
}
