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
export function curl(origin: string, e: { method: string; path: string; query: string; requestBody: string | null }): string {
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
  if (e.requestBody) parts.push(`-H 'Content-Type: application/json'`, `--data-raw ${sh(e.requestBody)}`);
  return parts.join(' \\\n  ');
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
