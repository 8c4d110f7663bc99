/** Load from autocannon, summarised the same way for every scenario and the baseline. */
import autocannon from 'autocannon';

/** A POST whose JSON body `body()` makes afresh for every call. */
export function post(path, headers, body) {
  return { method: 'POST', path, headers, setupRequest: (req) => ({ ...req, body: JSON.stringify(body()) }) };
}

/** A GET whose path `pathOf()` makes afresh for every call. */
export function get(headers, pathOf) {
  return { method: 'GET', headers, setupRequest: (req) => ({ ...req, path: pathOf() }) };
}

/**
 * Runs `request` against `url` from `connections` connections for `seconds`. req/s counts 2xx
 * answers only, so a scenario full of 401s or 500s is not "fast": it is slow and flagged, with its
 * non-2xx answers, connection errors and timeouts counted.
 */
export async function load(url, request, seconds, connections) {
  const r = await autocannon({ url, connections, duration: seconds, timeout: Math.max(10, seconds), requests: [request] });
  const statusCodes = Object.fromEntries(Object.entries(r.statusCodeStats ?? {}).map(([k, v]) => [k, v.count]));
  return {
    reqPerSec: r['2xx'] / r.duration,
    total: r.requests.total,
    ok: r['2xx'],
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    statusCodes,
    p50: r.latency.p50,
    p99: r.latency.p99,
    seconds: r.duration,
  };
}
