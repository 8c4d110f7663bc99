/** Plain-text helpers for console templates. Nothing here produces markup: templates escape. */
import type { FieldMap, FieldValue } from '../domain/types.js';

/** `2026-11-30 02:14:05 UTC` (epoch ms → readable UTC). */
export function time(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '';
  return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}

/** ISO string for `<time datetime>`. */
export function iso(ms: number | null | undefined): string {
  return ms === null || ms === undefined || !Number.isFinite(ms) ? '' : new Date(ms).toISOString();
}

/** A body pretty-printed when it is JSON, as received otherwise. */
export function pretty(body: string | null | undefined): string {
  if (body === null || body === undefined || body === '') return '';
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return body;
  }
}

/**
 * Rows of a field map: a custom field set becomes one row per nested attribute (`Set › Attr`).
 * `labels` (schema name → display name, nested ones keyed `Set.Attr`) adds display names.
 */
export function fieldRows(fields: FieldMap, labels: Map<string, string> = new Map()): { name: string; label: string; value: string; nested: boolean }[] {
  const rows: { name: string; label: string; value: string; nested: boolean }[] = [];
  const label = (key: string, name: string) => {
    const l = labels.get(key);
    return l && l !== name ? l : '';
  };
  for (const [name, v] of Object.entries(fields).sort(([a], [b]) => a.localeCompare(b))) {
    if (v !== null && typeof v === 'object') {
      rows.push({ name, label: label(name, name), value: '', nested: false });
      for (const [attr, inner] of Object.entries(v)) rows.push({ name: `${name} › ${attr}`, label: label(`${name}.${attr}`, attr), value: inner ?? '', nested: true });
    } else rows.push({ name, label: label(name, name), value: v ?? '', nested: false });
  }
  return rows;
}

/** Display names of an activity type's fields, for fieldRows. */
export function fieldLabels(defs: { schemaName: string; displayName: string; fields: { schemaName: string; displayName: string }[] | null }[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const d of defs) {
    out.set(d.schemaName, d.displayName);
    for (const n of d.fields ?? []) out.set(`${d.schemaName}.${n.schemaName}`, n.displayName);
  }
  return out;
}

export function text(v: FieldValue | undefined): string {
  return typeof v === 'string' ? v : '';
}

/** A single-quoted shell word. */
const sh = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * "Copy as curl" for a journal entry, with placeholder keys: the recorded query's key parameters
 * (already redacted) are dropped and YOUR_ACCESS_KEY / YOUR_SECRET_KEY put in their place; an async
 * API call gets an x-api-key header with YOUR_API_KEY (its status and metrics reads that alone).
 */
export function curl(origin: string, e: { method: string; path: string; query: string; requestBody: string | null; requestSize?: number | null }, bodyLimit = Infinity): string {
  // LeadSquared's async API (paths outside /v2/ and leadtrail's own): every call takes an
  // x-api-key; its status and metrics reads take nothing else (docs/compatibility.md, Authentication).
  const asyncApi = /^\/(activity|lead)\//i.test(e.path);
  const apiKeyOnly = asyncApi && e.method === 'GET';
  const params = new URLSearchParams(e.query);
  for (const k of [...params.keys()]) if (/^(accesskey|secretkey)$/i.test(k)) params.delete(k);
  if (!apiKeyOnly) {
    params.append('accessKey', 'YOUR_ACCESS_KEY');
    params.append('secretKey', 'YOUR_SECRET_KEY');
  }
  const query = params.toString();
  const parts = [`curl -X ${e.method}`, sh(`${origin}${e.path}${query ? `?${query}` : ''}`)];
  if (asyncApi) parts.push(`-H 'x-api-key: YOUR_API_KEY'`);
  if (e.requestBody) {
    // The journal keeps no headers: a body that reads as a form was most likely sent as one.
    const type = /^[^\s{["'][^\s]*=/.test(e.requestBody) ? 'application/x-www-form-urlencoded' : 'application/json';
    // A body cut at the journal's limit is not sent as it is (it would be invalid JSON): the
    // command says where the whole body goes.
    const data = cutBody(e, bodyLimit) ? 'PASTE_THE_WHOLE_BODY_HERE' : e.requestBody;
    parts.push(`-H 'Content-Type: ${type}'`, `--data-raw ${sh(data)}`);
  }
  return parts.join(' \\\n  ');
}

/**
 * Whether a journal entry's request body was cut at the journal's limit (`limit`, bytes:
 * LEADTRAIL_JOURNAL_MAX_BODY_BYTES): its size as sent is more than what was kept, and what was kept
 * reaches the limit (a cut is made at a character boundary, up to 3 bytes short of it). Not the size
 * alone: masked secrets make a body shorter than it was sent.
 */
export function cutBody(e: { requestBody: string | null; requestSize?: number | null }, limit: number): boolean {
  if (e.requestBody === null || e.requestSize == null) return false;
  const kept = Buffer.byteLength(e.requestBody);
  return e.requestSize > kept && kept > limit - 4;
}

/** A lead's display name: First Last, else email, else its number. */
export function leadName(fields: FieldMap, autoId: number): string {
  const name = [text(fields.FirstName), text(fields.LastName)].filter(Boolean).join(' ');
  return name || text(fields.EmailAddress) || `Lead #${autoId}`;
}

/**
 * Attempts of an async request that failed, as the console shows them: the stored count holds the
 * attempts that were retried (a system error), and a request that ended FAILURE or ERROR failed
 * once more, on its last attempt.
 */
export function failedAttempts(r: { status: string; attempts: number }): number {
  return r.attempts + (r.status === 'failed' || r.status === 'errored' ? 1 : 0);
}

/** A span of whole seconds in words: `1 second`, `42 seconds`, `1 minute`, `2 hours`, `90 seconds`. */
export function duration(seconds: number): string {
  const [n, unit] = seconds % 3600 === 0 ? [seconds / 3600, 'hour'] : seconds % 60 === 0 ? [seconds / 60, 'minute'] : [seconds, 'second'];
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}
