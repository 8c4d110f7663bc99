/**
 * LeadSquared's leniencies as zod 4 schemas: the ONE place where a request's JSON is normalised
 * before a handler sees it. LeadSquared is a .NET service whose JSON reader matches property names
 * in any case, takes scalars as strings or numbers and flags in all their spellings; these schemas
 * do the same and hand the handler canonical names and typed values.
 *
 * Every failure carries the exact MxError the endpoint answers (`params.mx` on the zod issue):
 * a value of the wrong JSON type is a structure error (HTTP 400, `Invalid request body: …`); a value
 * of the right type that a rule refuses is an application error with its MX type (HTTP 500).
 * `parseInput` turns the first issue into that error. The same schemas render the OpenAPI document
 * (schemas/openapi.ts): their input side is what a client may send.
 */
import { z } from 'zod';
import 'zod-openapi';
import { MxError, isMxError, mx } from '../domain/errors.js';
import { absent, plainDecimal, wholeNumber, type Range } from '../domain/numbers.js';
import type { FieldInput } from '../domain/fields.js';
import { descending } from '../domain/lead-search.js';
import { wholeNumberPattern, wordsPattern, type Blank } from './patterns.js';

export type JsonObject = Record<string, unknown>;

export const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The MxError `check` throws. */
function structureError(check: () => unknown): MxError {
  try {
    check();
  } catch (e) {
    if (isMxError(e)) return e;
    throw e;
  }
  throw new Error('no structure error');
}

/** `v` as an object, or a 400 naming `what`. */
export function asObject(v: unknown, what = 'request body'): JsonObject {
  if (!isObject(v)) throw mx.badStructure(`${what} must be a JSON object`);
  return v;
}

/** `v` as an array, or a 400 naming `what`. */
export function asArray(v: unknown, what = 'request body'): unknown[] {
  if (!Array.isArray(v)) throw mx.badStructure(`${what} must be a JSON array`);
  return v;
}

/** `name` lower-cased, and whether that is all ASCII, for the property names looked up (a fixed set: the schemas' own literals). */
const lowerNames = new Map<string, [lower: string, ascii: boolean]>();
function lowerName(name: string): [lower: string, ascii: boolean] {
  let entry = lowerNames.get(name);
  if (entry === undefined) {
    const lower = name.toLowerCase();
    entry = [lower, !/[^\x00-\x7f]/.test(lower)];
    if (lowerNames.size < 4096) lowerNames.set(name, entry);
  }
  return entry;
}

/**
 * Property `name` of `o`, matched case-insensitively (an exact match first, else the first key equal
 * ignoring case). For an ASCII `name` a key of another length is not lower-cased: lower-casing
 * changes a string's length only for U+0130, whose lower case is not ASCII.
 */
export function prop(o: JsonObject, name: string): unknown {
  if (Object.prototype.hasOwnProperty.call(o, name)) return o[name];
  const [lower, ascii] = lowerName(name);
  for (const k of Object.keys(o)) if ((!ascii || k.length === lower.length) && k.toLowerCase() === lower) return o[k];
  return undefined;
}

type Ctx = { issues: unknown[]; value: unknown };
/** Records `err` as the issue that makes the parse fail; parseInput answers it as is. */
function raise(ctx: Ctx, err: MxError, path?: string[]): never {
  (ctx as unknown as { addIssue(i: unknown): void }).addIssue({ code: "custom", message: err.message, input: ctx.value, params: { mx: err }, ...(path ? { path } : {}) });
  return z.NEVER as never;
}

/** For a transform of its own: fail the parse with `err` (the answer is exactly that error). */
export const fail = (ctx: unknown, err: MxError): never => raise(ctx as Ctx, err);

/** A structure error (HTTP 400 `Invalid request body: …`), as opposed to a rule's application error. */
export const isStructureError = (e: unknown): e is MxError => isMxError(e) && e.status === 400;

export { absent as absentNumber, wholeNumber as wholeOrNull };

/**
 * A transform running one of the normalisation rules below: an MxError it throws becomes the
 * issue; the schema's input side (for the document) is `input`.
 */
export function rule<I extends z.ZodType, O>(input: I, fn: (v: z.output<I>) => O) {
  return input.transform((v, ctx) => {
    try {
      return fn(v);
    } catch (e) {
      if (isMxError(e)) return raise(ctx as unknown as Ctx, e);
      throw e;
    }
  });
}

/** Any JSON value: the rule decides. Documented by `doc`. */
export const anyJson = (doc: Record<string, unknown>) => z.unknown().meta({ override: doc });

export const SCALAR_DOC = { type: ['string', 'number', 'boolean', 'null'] };

/** A UTF-16 surrogate with no partner: a `\ud800` escape alone, or one from a body decoded from UTF-16. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
/**
 * `value` with every lone surrogate in its strings and property names replaced by U+FFFD, as the
 * body's bytes that are not UTF-8 already are. A lone surrogate (`"\ud800"`, valid JSON) is no
 * Unicode text: SQLite stored it as three bytes that read back as three U+FFFD and compared apart
 * from PostgreSQL's one U+FFFD, so the same lead was found on one engine and not on the other
 * (docs/compatibility.md, Conventions). Other values come back as they are.
 */
export function wellFormed(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(LONE_SURROGATE, '\uFFFD');
  if (Array.isArray(value)) return value.map(wellFormed);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      // defineProperty: a `__proto__` key stays an own property, as JSON.parse made it.
      Object.defineProperty(out, k.replace(LONE_SURROGATE, '\uFFFD'), { value: wellFormed(v), enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
  return value;
}

/** PostgreSQL cannot store U+0000 in text, so no engine takes it: it is an encoding mistake anyway. */
export function noNul(v: string, name: string): string {
  if (v.includes('\u0000')) throw mx.badStructure(`'${name}' must not contain the NUL character (\\u0000)`);
  return v;
}

/** A scalar as text: strings as they are, numbers and booleans written out, absent or null as null. */
export function scalar(v: unknown, name: string): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v === 'string') return noNul(v, name);
  // Written out in plain decimals: String() gives 1e-7 and 1e+21, which no Decimal field would take.
  if (typeof v === 'number' && Number.isFinite(v)) return plainDecimal(String(v));
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  // JSON.parse reads a number past a double's range (1e309) as Infinity: a number, but no value.
  if (typeof v === 'number') throw mx.badStructure(`'${name}' is a number too large to be finite (a JSON number of ${v < 0 ? '-' : ''}1e309 or beyond): send such a value as a string`);
  throw mx.badStructure(`'${name}' must be a string, number or boolean`);
}

/** A flag in every spelling LeadSquared takes: true/True/1/"1", false/False/0/"0"/"", absent or null is false. */
export function flagValue(v: unknown, name: string): boolean {
  if (v === undefined || v === null) return false;
  if (typeof v === 'boolean') return v;
  if (v === 'true' || v === 'True' || v === 1 || v === '1') return true;
  if (v === 'false' || v === 'False' || v === 0 || v === '0' || v === '') return false;
  throw mx.badStructure(`'${name}' must be true or false`);
}

/** An integer-like value as it came (number or numeric string), for the domain to judge. */
export function codeValue(v: unknown, name: string): string | number | null | undefined {
  if (v === undefined || v === null || typeof v === 'number' || typeof v === 'string') return v;
  // Strings of digits are taken too ("201"), so the message does not say "a number" alone.
  const got = typeof v === 'boolean' ? String(v) : Array.isArray(v) ? 'a list' : 'an object';
  throw mx.badStructure(`'${name}' must be a whole number, as a JSON number or a string of digits; got ${got}`);
}

/**
 * Text property: a string, number or boolean, as text; absent or null is null. `doc` adds to its
 * documentation what a rule reading it further takes (`maxLength`, `pattern`; they bind strings only).
 */
export const text = (name: string, doc: Record<string, unknown> = {}) => rule(anyJson({ ...SCALAR_DOC, ...doc }).optional(), (v) => scalar(v, name));

/** Text property that must be given and not blank (else `missing`, an MXMandatoryAttributeMissingException); `doc` as for `text`. */
export const requiredText = (name: string, missing: string, doc: Record<string, unknown> = {}) =>
  rule(anyJson({ ...SCALAR_DOC, ...doc }).optional(), (v) => {
    const t = scalar(v, name);
    if (t === null || t.trim() === '') throw mx.mandatoryMissing(missing);
    return t;
  });

/**
 * The documentation of a flag: every spelling flagValue takes, and null. The enum names its types:
 * openapi-typescript 6 (the client's types, `npm run openapi`) writes the members of an enum with no
 * `type` other than a string as `""` when they are falsy, so the client refused `0` and `null`.
 */
export const FLAG_DOC = { anyOf: [{ type: 'boolean' }, { type: ['string', 'integer', 'null'], enum: ['true', 'True', 'false', 'False', '1', '0', 1, 0, '', null] }] };

/**
 * The documentation of a `Sorting.Direction` (domain/lead-search.ts `descending`, and
 * RetrieveByActivityEvent's reader): 0 or 1 as a number; as a string 0/asc/ascending or
 * 1/desc/descending in any case, spaces around ignored, blank for the default (descending).
 */
export const SORT_DIRECTION_DOC = {
  type: ['string', 'integer', 'null'],
  minimum: 0,
  maximum: 1,
  pattern: wordsPattern(['0', '1', 'asc', 'ascending', 'desc', 'descending'], 'spaces'),
  description: '0/asc/ascending or 1/desc/descending (the default), any case',
};

/**
 * A `Sorting.Direction`, read the same on every route that sorts (lead reads, activity reads,
 * Webhook.svc/Retrieve): true for descending (domain/lead-search.ts `descending`); another value is
 * MXInvalidInputException. Webhook.svc/Retrieve had read every value but `0` as descending, so
 * `"asc"` sorted newest first (a fresh-eyes run).
 */
export const sortDirection = () => rule(anyJson(SORT_DIRECTION_DOC).optional(), (v) => descending(scalar(v, 'Direction')));

/** Flag property (see flagValue). */
export const flag = (name: string) => rule(anyJson(FLAG_DOC).optional(), (v) => flagValue(v, name));

/**
 * A number or numeric string as it came, for the domain to judge (event codes). `doc` is its
 * documentation: what the domain takes, as `wholeDoc` gives it or with its own `anyOf`.
 */
export const code = (name: string, doc: Record<string, unknown> = {}) =>
  rule(anyJson(doc.anyOf ? doc : { type: ['integer', 'string', 'null'], ...doc }).optional(), (v) => codeValue(v, name));

/**
 * The documentation of a whole number that `wholeNumber` reads (a JSON integer, or digits with
 * spaces around, a sign and leading zeros) within `range`: `minimum` and `maximum` bound the integer
 * form, `pattern` the string form (patterns.ts), which admits the blank strings `blank` says the
 * property's reader takes as absent.
 */
export const wholeDoc = (range: Range, blank: Blank) => ({
  type: ['integer', 'string', 'null'],
  minimum: range.min,
  maximum: range.max,
  pattern: wholeNumberPattern(range, blank),
});

/**
 * A whole number (a number or digits) within `range`, or undefined when absent (null, blank).
 * Another JSON type is a 400; a value out of range or not whole is MXInvalidInputException naming `label`.
 */
export const whole = (name: string, range: Range, label = name) =>
  rule(anyJson(wholeDoc(range, 'spaces')).optional(), (v) => {
    const c = codeValue(v, name);
    if (absent(c)) return undefined;
    const n = wholeNumber(c, range);
    if (n === null) throw mx.invalidInput(`Invalid Input! '${label}' must be a whole number from ${range.min} to ${range.max}.`);
    return n;
  });

/**
 * An object whose properties are matched in any case: the keys of `shape` are its canonical names
 * and the handler sees only those. `what` names it in the 400 a non-object gets.
 */
export function object<S extends z.ZodRawShape>(shape: S, what: string) {
  return z.preprocess(canonical(shape, what), z.object(shape));
}

/** The properties of `shape` found in any case, under their canonical names; not an object: a 400 naming `what`. */
function canonical(shape: z.ZodRawShape, what: string) {
  // What `prop` finds for each name of the shape, found by walking the body's keys once (a body
  // names a few of a shape's properties): each of the shape's names by its lower case. Two names
  // equal ignoring case would need `prop`'s name-by-name search; no shape has them.
  const names = new Map(Object.keys(shape).map((k) => [k.toLowerCase(), k]));
  if (names.size !== Object.keys(shape).length) throw new Error(`object(): two of the names ${Object.keys(shape).join(', ')} are equal ignoring case`);
  return (v: unknown, ctx: unknown) => {
    if (!isObject(v)) return raise(ctx as Ctx, structureError(() => asObject(v, what)));
    const out: JsonObject = {};
    // Names whose first key in another case held undefined (a body not from JSON): `prop` stops there.
    let claimed: Set<string> | null = null;
    for (const key of Object.keys(v)) {
      const value = v[key];
      if (Object.prototype.hasOwnProperty.call(shape, key)) {
        if (value !== undefined) out[key] = value;
        continue;
      }
      // A key equal to a name ignoring case: the first such key, unless the name itself is sent
      // (an exact name that comes later overwrites it above).
      const name = names.get(key.toLowerCase());
      if (name === undefined || Object.prototype.hasOwnProperty.call(out, name) || Object.prototype.hasOwnProperty.call(v, name) || claimed?.has(name)) continue;
      if (value !== undefined) out[name] = value;
      else (claimed ??= new Set()).add(name);
    }
    return out;
  };
}

/** Reads property `k` of an `ordered` object: its value by its schema, or that schema's MxError thrown. */
export type Reader<S extends z.ZodRawShape> = <K extends keyof S & string>(k: K) => z.output<S[K]>;

/**
 * The input side of a `rule` property: what a client may send (its documentation and metadata),
 * accepting any JSON so that the rule can be applied later, by `ordered`.
 */
function lenient(s: z.ZodType): z.ZodType {
  let x: z.ZodType = s;
  while (x instanceof z.ZodPipe && !(x.in instanceof z.ZodTransform)) x = x.in as z.ZodType;
  const inner = x instanceof z.ZodOptional ? (x.unwrap() as z.ZodType) : x;
  if (!(inner instanceof z.ZodUnknown)) throw new Error('ordered(): each property must be a rule over anyJson (see text, code, flag, fieldList)');
  const meta = s.meta();
  return meta ? x.meta(meta) : x;
}

/**
 * An object whose properties (matched in any case, as `object`) are judged in the order `build`
 * reads them, and only those it reads: for bodies where LeadSquared's answer depends on which check
 * comes first (Create reads the lead reference before the activity and ignores FirstName once
 * RelatedProspectId is given). `build` gets `read(name)`, the property by its schema in `shape`
 * (the first property it reads that a rule refuses is the answer), and `has(name)`, whether the
 * property was sent; it returns the handler's typed input. The document shows `shape`.
 * Each property of `shape` must be a `rule` over `anyJson` (text, code, flag, fieldList, …).
 */
export function ordered<S extends Record<string, z.ZodType>, O>(shape: S, what: string, build: (read: Reader<S>, has: (k: keyof S & string) => boolean) => O) {
  const doc = Object.fromEntries(Object.entries(shape).map(([k, s]) => [k, lenient(s)]));
  // preprocess(…, object.transform(…)), not object(…).transform(…): the document then takes the
  // object (and an ordered property is required, as an object() one is).
  return z.preprocess(
    canonical(shape, what),
    z.object(doc).transform((raw: JsonObject, ctx) => {
      // The property whose own reading failed: the issue's path names it, so that a structure error
      // inside a sub-object reads as `'Activity.ActivityNote'` (withObjectPath), as object()'s do.
      let failed: { key: string; error: unknown } | undefined;
      const read = (k: keyof S & string) => {
        try {
          return parseInput(shape[k], raw[k]) as z.output<S[typeof k]>;
        } catch (e) {
          failed = { key: k, error: e };
          throw e;
        }
      };
      try {
        return build(read, (k) => raw[k] !== undefined);
      } catch (e) {
        if (isMxError(e)) return raise(ctx as unknown as Ctx, e, failed?.error === e ? [failed.key] : undefined);
        throw e;
      }
    }),
  );
}

/** Row `i`'s (0-based) error as the bulk call answers it: a structure error names the row (`Invalid request body: row 2: …`), a rule's error stays as it is. */
export const inRow = (i: number, e: MxError): MxError =>
  isStructureError(e) ? mx.badStructure(`row ${i + 1}: ${e.message.replace(/^Invalid request body: /, '')}`) : e;

/**
 * A bulk body: a JSON array of at most `max` rows (else `tooMany(count)`), every row read by `row`
 * before any is written. A row that is not an object is a 400 naming it; a row's structure error
 * (400) is answered naming its row (`Invalid request body: row 2: …`); a rule's error as it is.
 * `prefixObjectError`: the not-an-object message is also prefixed (`row 2: row 2 must be …`), as
 * Bulk/CustomActivity/Update has always answered.
 */
export function rows<R extends z.ZodType>(row: R, max: number, tooMany: (count: number) => MxError, prefixObjectError = false) {
  return z
    .preprocess((v, ctx) => {
      if (!Array.isArray(v)) return raise(ctx as unknown as Ctx, structureError(() => asArray(v)));
      if (v.length > max) return raise(ctx as unknown as Ctx, tooMany(v.length));
      for (const [i, r] of (v as unknown[]).entries()) {
        if (!prefixObjectError && !isObject(r)) return raise(ctx as unknown as Ctx, structureError(() => asObject(r, `row ${i + 1}`)));
        try {
          parseInput(row, asObject(r, `row ${i + 1}`));
        } catch (e) {
          if (!isMxError(e)) throw e;
          return raise(ctx as unknown as Ctx, inRow(i, e));
        }
      }
      // Every row is good: the array schema reads them (again) into the handler's typed rows.
      return v;
    }, z.array(row))
    .meta({ description: `At most ${max} rows` });
}

type Check<S extends z.ZodRawShape> = (v: z.output<z.ZodObject<S>>) => void;

/** object(), then `check` (a rule on the whole object, run once its properties are read). */
function checked<S extends z.ZodRawShape>(shape: S, what: string, check?: Check<S>) {
  return check ? object(shape, what).pipe(rule(z.any(), (v) => (check(v), v as z.output<z.ZodObject<S>>))) : object(shape, what);
}

/** An optional sub-object (`Paging`, `Sorting`…): absent is undefined, null reads as `{}`, another type is a 400 naming `what`. */
export const subObject = <S extends z.ZodRawShape>(shape: S, what: string, check?: Check<S>) =>
  z.preprocess((v) => (v === null ? {} : v), checked(shape, what, check)).optional();

/** A sub-object that is always read: absent or null reads as `{}` (its mandatory properties then say what is missing). */
export const requiredObject = <S extends z.ZodRawShape>(shape: S, what: string, check?: Check<S>) =>
  z.preprocess((v) => v ?? {}, checked(shape, what, check));

/** A body read only when it is an object (anything else counts as no body), for calls that also take their input in the query. */
export const lenientBody = <S extends z.ZodRawShape>(shape: S) => z.preprocess((v) => (isObject(v) ? v : {}), object(shape, 'request body'));

/** A request body that may be empty (no body, null or ""): read as `{}`. */
export function optionalBody<S extends z.ZodRawShape>(shape: S) {
  return z.preprocess((v) => (v === undefined || v === null || v === '' ? {} : v), object(shape, 'request body'));
}

export const FIELD_ENTRY_DOC = {
  type: 'object',
  description: 'A field: its name as `SchemaName` or `Attribute` (any case), its `Value`, and for a custom field set a nested `Fields` list (one level).',
  properties: {
    SchemaName: { type: 'string' },
    Attribute: { type: 'string' },
    Value: { type: ['string', 'number', 'boolean', 'null'] },
    // A nested entry is read as a top-level one (fieldListValue): by `SchemaName` or `Attribute`.
    Fields: {
      type: 'array',
      items: {
        type: 'object',
        properties: { SchemaName: { type: 'string' }, Attribute: { type: 'string' }, Value: { type: ['string', 'number', 'boolean', 'null'] }, Fields: { type: 'null', description: 'Not nested further: null or absent' } },
      },
    },
  },
};

/**
 * A `Fields` / `LeadDetails` list: entries keyed `SchemaName` or `Attribute`, with `Value`, and for a
 * custom field set a nested `Fields` list (one level only).
 */
export function fieldListValue(v: unknown, what: string, depth = 0): FieldInput[] {
  if (v === undefined || v === null) return [];
  return asArray(v, `'${what}'`).map((raw, i) => {
    const item = asObject(raw, `'${what}[${i}]'`);
    // The first of the two that names a field: an entry whose SchemaName is empty but whose Attribute
    // names one (a client that fills both properties of its class, one left "") was refused.
    const named = (v: unknown): v is string => typeof v === 'string' && v.trim() !== '';
    const schemaName = prop(item, 'SchemaName');
    const rawName = named(schemaName) ? schemaName : prop(item, 'Attribute');
    if (!named(rawName)) {
      throw mx.badStructure(`'${what}[${i}]' needs a 'SchemaName' or 'Attribute' string`);
    }
    const nested = prop(item, 'Fields');
    if (nested !== undefined && nested !== null && depth >= 1) {
      throw mx.badStructure(`'${what}[${i}].Fields': custom field sets cannot be nested more than one level`);
    }
    noNul(rawName, `${what}[${i}].SchemaName`);
    return {
      name: rawName.trim(),
      value: scalar(prop(item, 'Value'), `${what}[${i}].Value`),
      fields: nested === undefined || nested === null ? null : fieldListValue(nested, `${what}[${i}].Fields`, depth + 1),
    };
  });
}

/** A field list property: absent or null is empty, or with `missing` an MXMandatoryAttributeMissingException saying `missing`. */
export const fieldList = (what: string, missing?: string) =>
  rule(anyJson({ type: ['array', 'null'], items: FIELD_ENTRY_DOC }).optional(), (v) => {
    if (missing !== undefined && (v === undefined || v === null)) throw mx.mandatoryMissing(missing);
    return fieldListValue(v, what);
  });

/** A lead attribute list, as the body itself or wrapped in `{"LeadDetails": […]}` (clients send both). */
export function leadAttributeListValue(body: unknown): FieldInput[] {
  const wrapped = isObject(body) && prop(body, 'LeadDetails') !== undefined;
  // Paths name the entry as the caller wrote it: `[0].Value` in a bare list (the message already says
  // "request body"), `LeadDetails[0].Value` in a wrapped one.
  if (!wrapped && !Array.isArray(body)) {
    // Both forms named: `{}` or `{"Leaddetail": …}` is one property short of the wrapped one.
    throw mx.badStructure('request body must be a JSON array of {"Attribute","Value"} entries, or an object with that array as \'LeadDetails\'');
  }
  return fieldListValue(asArray(wrapped ? prop(body, 'LeadDetails') : body, wrapped ? "'LeadDetails'" : 'request body'), wrapped ? 'LeadDetails' : '');
}

export const ATTRIBUTE_LIST_DOC = {
  anyOf: [
    { type: 'array', items: FIELD_ENTRY_DOC },
    { type: 'object', properties: { LeadDetails: { type: 'array', items: FIELD_ENTRY_DOC } }, required: ['LeadDetails'] },
  ],
};

/** A lead attribute list body (leadAttributeListValue). */
export const leadAttributeList = () => rule(anyJson(ATTRIBUTE_LIST_DOC), leadAttributeListValue);

/**
 * Query parameters, matched in any case (the server lower-cases their names; the first of repeated
 * names wins), read by `schema` under their canonical names (its keys).
 */
export function parseQuery<T extends z.ZodObject>(schema: T, q: Record<string, string>): z.output<T> {
  const out: JsonObject = {};
  for (const k of Object.keys(schema.shape)) if (q[k.toLowerCase()] !== undefined) out[k] = q[k.toLowerCase()];
  return parseInput(schema, out);
}

/**
 * `s` (a query parameter, read from its text as every query value is) shown in the document as
 * `doc` instead of a string: a number or a flag, so that a client generated from the document takes
 * one and writes it into the query string as its text. Keeps `s`'s other metadata (description,
 * required).
 */
export const documentedAs = <T extends z.ZodType>(s: T, doc: Record<string, unknown>): T => s.meta({ override: doc }) as T;

/**
 * A whole-number query parameter from `range.min` to `range.max` (digits, as wholeNumber reads
 * them), documented as an integer with those bounds; absent or blank is undefined; anything else is
 * `bad(raw)` thrown (leadtrail's own endpoints answer a 400 MXInvalidInputException).
 */
export const wholeParam = (range: Range, bad: (raw: string) => MxError) =>
  documentedAs(
    rule(z.string().optional(), (raw) => {
      if (raw === undefined || raw.trim() === '') return undefined;
      const n = wholeNumber(raw, range);
      if (n === null) throw bad(raw);
      return n;
    }),
    { type: 'integer', minimum: range.min, maximum: range.max },
  );

/** A flag query parameter (true/1/yes and the like: the endpoint says which), documented as a boolean or its text. */
export const flagParamDoc = { type: ['boolean', 'string'] };

/**
 * A query parameter that must be given and not empty (else `missing`, an
 * MXMandatoryAttributeMissingException); with `trim`, read trimmed and blank counts as missing.
 */
export const requiredParam = (missing: string, opts: { trim?: boolean } = {}) =>
  rule(z.string().optional(), (v) => {
    const t = opts.trim ? v?.trim() : v;
    if (!t) throw mx.mandatoryMissing(missing);
    return t;
  }).meta({ param: { required: true } });

/** A body path as the messages write it: `Activity.Fields[0].Value`. */
function pathName(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? String(p) : `.${String(p)}`;
  return out;
}

/** The name an MXInvalidInputException message opens with, quoted: `'Offset' must be…`, `Invalid request body: 'Value' …`. */
const LEADING_NAME = /^((?:Invalid request body: |Invalid Input! )?)'([A-Za-z_][\w.\[\]]*)'/;

/**
 * An MXInvalidInputException raised inside the body names its property as the rule that read it
 * saw it (`'Offset' must be a whole number…`, `'Fields[0].Value' …`, a whole-object check's
 * `'LookupValue' …`): named here from the zod issue's path with everything it is in
 * (`'Paging.Offset'`, `'Activity.Fields[0].Value'`, `'Parameter.LookupValue'`), so a client sees
 * which one (a fresh-eyes run: `Columns.Include_CSV` on Leads.Get; a review: arrays inside objects,
 * CreateType's and CustomHeaders' rows, whole-object checks). A name that is a tail of the path is
 * replaced by the whole path; any other name in a structure error (400: they quote property names,
 * never values), under a path that ends at an object property, is put inside it. Bulk rows are named by the bulk calls' own `row N:` (inRow), the row being the parse.
 */
function withObjectPath(err: MxError, path: readonly PropertyKey[]): MxError {
  if (err.type !== 'MXInvalidInputException' || path.length === 0) return err;
  const m = LEADING_NAME.exec(err.message);
  if (!m) return err;
  const [whole, prefix, name] = m;
  // The longest tail of the path the name starts with (`Fields` of `Activity.Fields` for
  // `'Fields[0].Value'`, read by a rule that saw only the list): the rest of the path goes before it.
  let named: string | undefined;
  for (let k = 0; k < path.length && named === undefined; k++) {
    const tail = pathName(path.slice(k));
    if (name === tail || name.startsWith(`${tail}.`) || name.startsWith(`${tail}[`)) {
      if (k === 0) return err; // named whole already
      const head = pathName(path.slice(0, k));
      named = name.startsWith('[') ? `${head}${name}` : `${head}.${name}`;
    }
  }
  // A name the path does not end in, in a structure error (400: they quote property names, never
  // values) under a path that ends at an object property: a whole-object check naming a property of it.
  if (named === undefined && err.status === 400 && typeof path[path.length - 1] === 'string' && !name.startsWith('[')) named = `${pathName(path)}.${name}`;
  if (named === undefined) return err;
  return new MxError(err.type, `${prefix}'${named}'${err.message.slice(whole.length)}`, err.status, err.headers);
}

/**
 * `schema` applied to `value`: its typed output, or the MxError of its first issue thrown. An issue
 * without an MxError (a rule written with plain zod) is a 400 structure error with zod's message.
 */
export function parseInput<T extends z.ZodType>(schema: T, value: unknown): z.output<T> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const err = (issue as { params?: { mx?: unknown } }).params?.mx;
  if (isMxError(err)) throw withObjectPath(err, issue.path);
  const where = issue.path.length ? `'${issue.path.map(String).join('.')}': ` : '';
  throw mx.badStructure(`${where}${issue.message}`);
}
