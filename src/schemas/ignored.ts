/**
 * The body properties a call sent that its endpoint does not read: a misspelt `ActivityNotes`, a
 * `Feild` in an attribute row, a `PageSiz` in `Paging`. leadtrail answers such a call as if they
 * were not there (docs/compatibility.md: a choice, as a .NET JSON reader ignores members it does
 * not know); this names them, so that a sandbox user sees why a value went nowhere (the `X-LeadTrail-Ignored-Properties` header, the
 * console's request page).
 *
 * Found from the endpoint's body schema, as `object()` and `ordered()` match names (lsq.ts
 * `canonical`, `prop`): in any case, the exact name winning, a second spelling of a name already
 * matched ignored. A rule over any JSON (an attribute list, `Fields`, `CustomHeaders`) is looked
 * into by the JSON Schema document it gives (`anyJson(doc)`), which must name every property the
 * rule reads (test/http/ignored-properties.test.ts sends field lists with each of them). Open objects (`catchall`, `looseObject`)
 * ignore nothing. Properties an `ordered` body has but does not read for this call (FirstName
 * beside a RelatedProspectId) are not named: they are the endpoint's own, ignored by its rule.
 */
import { z } from 'zod';
import { pathKey, routeKey } from './endpoint.js';
import { ENDPOINT_BY_ROUTE } from './index.js';
import { isObject } from './lsq.js';

/** What a body schema accepts, as far as property names go; null: anything (a rule over any JSON). */
type Plan =
  | { kind: 'object'; props: ReadonlyMap<string, Plan | null>; byLower: ReadonlyMap<string, string>; open: boolean }
  | { kind: 'array'; element: Plan | null }
  | { kind: 'union'; options: Plan[] };

/** The wrapper types whose inner schema is what a body is matched against. */
function inner(s: z.ZodType): z.ZodType | null {
  if (s instanceof z.ZodOptional || s instanceof z.ZodNullable || s instanceof z.ZodDefault || s instanceof z.ZodReadonly || s instanceof z.ZodCatch) {
    return s.unwrap() as z.ZodType;
  }
  if (s instanceof z.ZodPipe) {
    // preprocess(fn, schema) is pipe(transform, schema): the schema is what reads the body; for
    // schema.pipe(rule) or schema.transform(fn), the input side does.
    const pipe = s as z.ZodPipe<z.ZodType, z.ZodType>;
    return pipe.in instanceof z.ZodTransform ? pipe.out : pipe.in;
  }
  return null;
}

/**
 * The plan of a JSON Schema document of what a rule reads (`anyJson(doc)`): an object is closed
 * when it names its `properties` (the rules read those by `prop`, in any case, as `canonical`
 * does), an array by its `items`, `anyOf` as a union.
 */
function docPlan(doc: Record<string, unknown>): Plan | null {
  if (Array.isArray(doc.anyOf)) {
    const options = doc.anyOf.filter(isObject).map(docPlan).filter((p): p is Plan => p !== null);
    return options.length ? { kind: 'union', options } : null;
  }
  const types = Array.isArray(doc.type) ? doc.type : [doc.type];
  if (types.includes('object') && isObject(doc.properties)) {
    const props = doc.properties;
    return {
      kind: 'object',
      props: new Map(Object.entries(props).map(([k, v]) => [k, isObject(v) ? docPlan(v) : null])),
      byLower: new Map(Object.keys(props).map((k) => [k.toLowerCase(), k])),
      open: doc.additionalProperties !== undefined && doc.additionalProperties !== false,
    };
  }
  if (types.includes('array') && isObject(doc.items)) {
    const element = docPlan(doc.items);
    return element ? { kind: 'array', element } : null;
  }
  return null;
}

/** The plan of `schema`; `seen` stops at a schema that contains itself. */
function planOf(schema: z.ZodType, seen: Set<z.ZodType> = new Set()): Plan | null {
  let s: z.ZodType = schema;
  // The document of a rule over any JSON, on whichever wrapper carries it (a `.meta({description})`
  // added outside keeps it inside).
  let doc: unknown = s.meta()?.override;
  for (let next = inner(s); next; next = inner(s)) {
    s = next;
    doc ??= s.meta()?.override;
  }
  if (seen.has(s)) return null;
  seen.add(s);
  try {
    if (s instanceof z.ZodObject) {
      const shape = s.shape as Record<string, z.ZodType>;
      const catchall = (s._zod.def as { catchall?: z.ZodType }).catchall;
      return {
        kind: 'object',
        props: new Map(Object.entries(shape).map(([k, v]) => [k, planOf(v, seen)])),
        byLower: new Map(Object.keys(shape).map((k) => [k.toLowerCase(), k])),
        open: catchall !== undefined && !(catchall instanceof z.ZodNever),
      };
    }
    if (s instanceof z.ZodArray) return { kind: 'array', element: planOf(s.element as z.ZodType, seen) };
    if (s instanceof z.ZodUnion) {
      const options = (s.options as z.ZodType[]).map((o) => planOf(o, seen)).filter((p): p is Plan => p !== null);
      return options.length ? { kind: 'union', options } : null;
    }
    // A rule over any JSON: the document it gives (an attribute list, `Fields`, `CustomHeaders`)
    // says what the rule reads.
    return isObject(doc) ? docPlan(doc) : null;
  } finally {
    seen.delete(s);
  }
}

/** The plan of a union that fits `value` (an object or an array), or the plan itself. */
function fitting(plan: Plan, value: unknown): Plan | null {
  if (plan.kind !== 'union') return plan;
  const want = Array.isArray(value) ? 'array' : 'object';
  return plan.options.map((o) => fitting(o, value)).find((o) => o?.kind === want) ?? null;
}

/** Most names one answer lists. */
export const IGNORED_MAX = 20;

function walk(plan: Plan | null, value: unknown, path: string, out: string[]): void {
  if (!plan || out.length > IGNORED_MAX) return;
  const p = fitting(plan, value);
  if (!p) return;
  if (p.kind === 'array') {
    if (Array.isArray(value)) for (let i = 0; i < value.length && out.length <= IGNORED_MAX; i++) walk(p.element, value[i], `${path}[${i}]`, out);
    return;
  }
  if (p.kind !== 'object' || !isObject(value) || p.open) return;
  // As lsq.ts canonical(): an exact name is read; another spelling of a name is read when the
  // exact name is not sent and no earlier spelling was; every other key is ignored.
  let taken: Set<string> | null = null;
  for (const key of Object.keys(value)) {
    let name: string | undefined;
    if (p.props.has(key)) name = key;
    else {
      const n = p.byLower.get(key.toLowerCase());
      if (n !== undefined && !Object.prototype.hasOwnProperty.call(value, n) && !taken?.has(n)) (taken ??= new Set()).add((name = n));
    }
    // An empty name is written `""`, so that a path still shows it (`Paging.""`).
    if (name === undefined) out.push(path ? `${path}.${key || '""'}` : key || '""');
    else walk(p.props.get(name) ?? null, value[key], path ? `${path}.${name}` : name, out);
    if (out.length > IGNORED_MAX) return;
  }
}

/**
 * Finds the ignored properties of bodies read by one body schema. Build it once per endpoint (it
 * walks the schema): `(body) => names`, each a path in the body (`ActivityNotes`,
 * `Paging.PageSiz`, `[2].Valeu`; array indexes from 0; an empty name as `""`), in the body's
 * order, at most IGNORED_MAX + 1 (one more than shown says there were more). A body that is not an
 * object or array has none.
 */
export function ignoredFinder(bodySchema: z.ZodType): (body: unknown) => string[] {
  const plan = planOf(bodySchema);
  return (body) => {
    const out: string[] = [];
    if (plan && typeof body === 'object' && body !== null) walk(plan, body, '', out);
    return out;
  };
}

/** Longest header value (characters): proxies refuse large response headers (nginx's default buffer is 4–8 KB). */
export const IGNORED_HEADER_MAX = 1_000;

/**
 * `names` as one header value: comma-separated, each cut to 100 characters (then ending `…`),
 * anything outside printable ASCII, the comma and the backslash written as `\uXXXX` (a header
 * carries Latin-1 at most, and a name holding a comma would read as two); at most IGNORED_MAX names
 * and IGNORED_HEADER_MAX characters, a last `...` saying that more were left out.
 */
export function ignoredHeaderValue(names: readonly string[]): string {
  let value = '';
  for (let i = 0; i < names.length; i++) {
    const n = names[i];
    // A name cut short ends with `…` (escaped below: `...` alone ends the list).
    const name = (n.length > 100 ? `${n.slice(0, 100)}\u2026` : n).replace(/[^\x20-\x2b\x2d-\x5b\x5d-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
    const next = value ? `${value}, ${name}` : name;
    if (i >= IGNORED_MAX || next.length > IGNORED_HEADER_MAX - 5) return value ? `${value}, ...` : '...';
    value = next;
  }
  return value;
}

/** The response header that names a call's ignored properties (only when there are some). */
export const IGNORED_HEADER = 'X-LeadTrail-Ignored-Properties';

const finders = new Map<string, ((body: unknown) => string[]) | null>();

/**
 * The ignored-property finder of the route `method path` (the route table's path, or a path as a
 * client sent it: any case, unreserved escapes, doubled or trailing slashes, as the router takes it: pathKey); null when the
 * route reads no body (or is not one of the endpoint list's). Built once per route.
 */
export function ignoredFinderFor(method: string, path: string): ((body: unknown) => string[]) | null {
  const key = routeKey(method, pathKey(path));
  let f = finders.get(key);
  if (f === undefined) {
    const body = ENDPOINT_BY_ROUTE.get(key)?.body;
    f = body ? ignoredFinder(body) : null;
    if (finders.size < 1_000) finders.set(key, f);
  }
  return f;
}

/**
 * The ignored properties of a call as the request journal kept it (`bodyText`, the request body as
 * stored): found again by the route's finder (ignoredFinderFor). Null when the route reads no body,
 * there was none, or the text is not JSON (a body the journal cut, a form-encoded one); an empty
 * list when every property was read. At most IGNORED_MAX names, then `...` when there were more, as
 * the header; the names as sent, not escaped as the header writes them.
 */
export function ignoredInBody(method: string, path: string, bodyText: string | null): string[] | null {
  const find = ignoredFinderFor(method, path);
  if (!find || bodyText === null) return null;
  let body: unknown;
  try {
    body = JSON.parse(bodyText);
  } catch {
    return null;
  }
  const names = find(body);
  return names.length > IGNORED_MAX ? [...names.slice(0, IGNORED_MAX), '...'] : names;
}
