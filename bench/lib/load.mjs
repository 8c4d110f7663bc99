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
  return summary(await autocannon({ url, connections, duration: seconds, timeout: Math.max(10, seconds), requests: [request] }));
}

/**
 * Exactly `calls` calls of `request` from `connections` connections, each answered before it
 * returns (for counting instructions, where a server runs far slower: a call may take a minute).
 */
export async function loadCalls(url, request, calls, connections) {
  return summary(await autocannon({ url, connections, amount: calls, timeout: 120, requests: [request] }));
}

function summary(r) {
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
    max: r.latency.max,
    seconds: r.duration,
  };
}

/**
 * One call of `request` (an autocannon request, as `post` and `get` make) with fetch: what the
 * server answers it, `{ status, contentType, body }` (body as text). The bench gives that answer to
 * the baseline, so that both answer the same bytes.
 */
export async function once(url, request) {
  const r = request.setupRequest ? request.setupRequest({ method: request.method, path: request.path, headers: request.headers, body: request.body }) : request;
  const res = await fetch(`${url}${r.path}`, { method: r.method ?? 'GET', headers: r.headers, body: r.body });
  return { status: res.status, contentType: res.headers.get('content-type') ?? 'application/octet-stream', body: await res.text() };
}

/** Sets what the bench's baseline (bench/lib/baseline.mjs) answers: `answer` from `once`, or null for its default. */
export async function setBaselineAnswer(url, answer) {
  const res = await fetch(`${url}/_baseline/answer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(answer ? { contentType: answer.contentType, body: answer.body } : {}) });
  if (res.status !== 204) throw new Error(`the baseline refused its answer: ${res.status}`);
}
