/**
 * Generators of hostile requests for any route: a realistic body for the route (when it takes one)
 * with a few spots mutated (wrong JSON types, arrays for objects and back, huge strings, deep
 * nesting, unicode, SQL text, prototype keys, extreme numbers), whole bodies that are not JSON at all
 * (invalid UTF-8, empty, `null`, other content types), hostile query strings and credentials.
 * Pure data: sending and judging the answers is the test's job.
 */
import fc from 'fast-check';

/** Real ids from the server under test, so mutated bodies get past the lookups to the deep checks. */
export interface SeedIds {
  leadId: string;
  email: string;
  phone: string;
  eventCode: number;
  activityId: string;
  requestId: string;
  /** A webhook of the account (Webhook.svc/Update and Delete), when the test made one. */
  webhookId?: string;
  /** Where a webhook the test creates posts to (a path of the server under test that answers 404). */
  hookUrl?: string;
}

export const HUGE = 'x'.repeat(100_000);
/** Stand-ins replaced after JSON.stringify by 10,000 levels of nesting (built as text, not values). */
const DEEP: Record<string, string> = {
  '@@deep-array@@': '['.repeat(10_000) + ']'.repeat(10_000),
  '@@deep-object@@': '{"a":'.repeat(10_000) + 'null' + '}'.repeat(10_000),
};

export const HOSTILE_STRINGS: string[] = [
  '', ' ', '\t\r\n', "'; DROP TABLE leads;--", "1' OR '1'='1", 'Robert"); DELETE FROM activities; --', "%' OR 1=1 --",
  '\u0000', 'a\u0000b', '\ud800', '\udfff', 'x\ud83d', '😀🎉👩‍👩‍👧‍👦', '\u202e\u0645\u0631\u062d\u0628\u0627', 'ｆｕｌｌｗｉｄｔｈ', 'e\u0301\u0301',
  '\ufeff', '\u2028\u2029', '__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty',
  '1e308', '-1e308', '-0', 'NaN', 'Infinity', '9007199254740993', '99999999999999999999999999', '0x1F', '1.5', '-1', '5e-324',
  '0000-00-00 00:00:00', '0001-01-01 00:00:00', '9999-12-31 23:59:59', '2024-02-30 10:00:00', '2024-13-01 25:61:61', '1970-01-01T00:00:00Z',
  '<script>alert(1)</script>', '${7*7}', '{{7*7}}', '../../etc/passwd', '%00', '%s%s%n', 'true', 'null', '[]', '{}',
  'a@b.co', 'A@B.CO ', '+91 98765 43210', 'mx_Custom_1', 'EmailAddress', 'ProspectID', '\u0000'.repeat(1000),
];

const anyUtf16 = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c));
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom(...HOSTILE_STRINGS) },
  { weight: 2, arbitrary: fc.string({ unit: anyUtf16, maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.constant(HUGE) },
);

const hostileNumber = fc.oneof(
  fc.constantFrom(1e308, -1e308, -0, 0, 5e-324, 2 ** 53 + 2, -(2 ** 63), 2 ** 64, 1.5, -1, 21, 201),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
);

/** Objects whose own keys are `__proto__` / `constructor` (JSON.parse makes them own properties). */
const protoObjects = fc.constantFrom(JSON.parse('{"__proto__":{"polluted":"yes"}}'), JSON.parse('{"constructor":{"prototype":{"polluted":"yes"}}}'));

export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 5, arbitrary: hostileString },
  { weight: 2, arbitrary: hostileNumber },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: fc.constantFrom(...Object.keys(DEEP)) },
  { weight: 2, arbitrary: fc.constantFrom<unknown>([], {}, [[]], [{}], [null], [''], { Value: {} }, { SchemaName: [] }) },
  { weight: 1, arbitrary: protoObjects },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
);

const hostileKey = fc.constantFrom(
  '__proto__', 'constructor', 'prototype', 'toString', '', ' ', 'relatedprospectid', 'ACTIVITYEVENT', 'Fields', 'Value', 'SchemaName',
  'Attribute', 'LeadDetails', 'Activity', 'Paging', 'Parameter', 'SearchBy', "'; DROP TABLE leads;--", '\u0000', '😀', 'mx_Custom_1', 'mx_Hostile',
);

/** A realistic body for each route that takes one (keyed by lower-cased path); others get none. */
export function templateFor(path: string, ids: SeedIds): unknown {
  const fields = [
    { SchemaName: 'mx_Custom_1', Value: '42' },
    { SchemaName: 'mx_Custom_2', Value: 'Red' },
    { Attribute: 'mx_Custom_3', Value: '', Fields: [{ SchemaName: 'mx_CustomObject_1', Value: 'doc.png' }, { SchemaName: 'Status', Value: 'Pending' }] },
  ];
  const activity = { ActivityEvent: ids.eventCode, ActivityNote: 'note', ActivityDateTime: '2024-01-02 03:04:05', Fields: fields, ActivityOwnerEmail: 'owner@example.com', ValidateDropDownOptions: false };
  const lead = [
    { Attribute: 'EmailAddress', Value: ids.email },
    { Attribute: 'FirstName', Value: 'Hostile' },
    { Attribute: 'Phone', Value: ids.phone },
    { Attribute: 'mx_City', Value: 'Pune' },
    { Attribute: 'SearchBy', Value: 'EmailAddress' },
  ];
  const p = path.toLowerCase();
  if (p.endsWith('/prospectactivity.svc/create') || p === '/activity/create') {
    return { RelatedProspectId: ids.leadId, EmailAddress: ids.email, FirstName: 'F', LastName: 'L', Phone: ids.phone, IncludeLeadScore: true, ProcessFilesAsync: false, ...activity };
  }
  if (p.endsWith('/createcustom')) return { LeadDetails: lead, Activity: activity, ValidateDropDownOptions: false };
  if (p.endsWith('/byleadid')) return [{ RelatedProspectId: ids.leadId, ...activity }, { RelatedProspectId: ids.leadId, ActivityEvent: ids.eventCode }];
  if (p.endsWith('/byleadfield')) return [{ SearchByValue: ids.email, ...activity }];
  if (p.endsWith('/createtype')) {
    return {
      ActivityEventName: 'Hostile type',
      DisplayName: 'Hostile',
      Description: 'd',
      Score: 5,
      Direction: 0,
      TrackLocation: true,
      Fields: [
        { SchemaName: 'mx_Custom_1', DisplayName: 'n', DataType: 'Number', IsMandatory: false, MaxLength: 10 },
        { SchemaName: 'mx_Custom_2', DataType: 'Dropdown', OptionSet: '[{"Value":"Red"},{"Value":"Blue"}]' },
        { SchemaName: 'mx_Custom_3', DataType: 'CustomObject', Fields: [{ SchemaName: 'mx_CustomObject_1', DataType: 'String' }] },
      ],
    };
  }
  if (p.endsWith('/retrievebyactivityevent')) {
    return { Parameter: { FromDate: '2024-01-01 00:00:00', ToDate: '2030-12-31 23:59:59', ActivityEvent: ids.eventCode }, Paging: { PageIndex: 1, PageSize: 10 }, Sorting: { ColumnName: 'CreatedOn', Direction: 1 } };
  }
  // Before '/retrieve' below: Webhook.svc/Retrieve had been sent ProspectActivity.svc/Retrieve's
  // body, whose properties it ignores, so no sweep reached its own.
  if (p.endsWith('/webhook.svc/retrieve')) {
    return { Parameter: { WebhookEvent: 'Lead_Post_Create', StatusCode: 0, WebhookId: ids.webhookId ?? '', SearchText: 'hook' }, Sorting: { ColumnName: 'CreatedOn', Direction: 1 }, Paging: { PageIndex: 1, PageSize: 10 } };
  }
  if (p.endsWith('/retrieve')) return { Parameter: { ActivityEvent: ids.eventCode }, Paging: { Offset: 0, RowCount: 10 } };
  if (p.endsWith('/lead/delete/byid')) return { LeadId: ids.leadId };
  if (p.endsWith('/lead.create') || p.endsWith('/lead.update')) return lead.slice(0, 4);
  if (p.endsWith('/lead.capture') || p.endsWith('/lead.createorupdate') || p === '/lead/capture') return lead;
  if (p.endsWith('/lead.convert') || p === '/lead/update') return lead.slice(0, 4);
  if (p.endsWith('/customactivity/update') && !p.includes('/bulk/')) return { ProspectActivityId: ids.activityId, ActivityNote: 'updated', Fields: fields.slice(0, 2) };
  if (p.endsWith('/bulk/customactivity/update')) return [{ ProspectActivityId: ids.activityId, ActivityNote: 'bulk', Fields: fields.slice(0, 2) }, { ProspectActivityId: ids.activityId, ActivityNote: 'again' }];
  if (p.endsWith('/customactivitytype/update')) {
    return { ID: ids.eventCode, DisplayName: 'Hostile seed', Description: 'd', Score: 5, Fields: [{ SchemaName: 'mx_Custom_1', DisplayName: 'n', DataType: 'Number', IsMandatory: false }] };
  }
  if (p.endsWith('/retrieverecentlymodified') || p.endsWith('/leads.recentlymodified')) {
    return { Parameter: { FromDate: '2020-01-01 00:00:00', ToDate: '2030-12-31 23:59:59' }, Paging: { PageIndex: 1, PageSize: 10 }, Sorting: { ColumnName: 'ModifiedOn', Direction: 1 } };
  }
  if (p.endsWith('/createleadfield')) return { DisplayName: 'Hostile Field', SchemaName: 'mx_Hostile_Field', DataType: 'Text', MaxLength: 50 };
  if (p.endsWith('/lead/bulk/create') || p.endsWith('/lead/bulk/createorupdate')) return [lead.slice(0, 4), [{ Attribute: 'EmailAddress', Value: `bulk.${ids.email}` }]];
  if (p.endsWith('/lead/bulk/update')) return { LeadIds: [ids.leadId], LeadFields: [{ Attribute: 'mx_City', Value: 'Pune' }, { Attribute: 'FirstName', Value: 'Bulk' }] };
  if (p.endsWith('/leads.get')) {
    return { Parameter: { LookupName: 'EmailAddress', LookupValue: ids.email, SqlOperator: '=' }, Columns: { Include_CSV: 'ProspectID,FirstName' }, Sorting: { ColumnName: 'CreatedOn', Direction: 1 }, Paging: { PageIndex: 1, PageSize: 10 } };
  }
  if (p.endsWith('/leads/retrieve/byids')) return { SearchParameters: { LeadIds: [ids.leadId] }, Columns: { Include_CSV: 'ProspectID,EmailAddress' }, Sorting: { ColumnName: 'CreatedOn', Direction: 1 }, Paging: { PageIndex: 1, PageSize: 10 } };
  if (p.endsWith('/webhook.svc/create')) {
    return { URL: ids.hookUrl ?? 'http://127.0.0.1:9/hook', WebhookEvent: 7, Method: 'POST', ContentType: 'application/json', Description: 'd', CustomHeaders: [{ Key: 'X-Team', Value: 'sales' }], ExecutionDelay: 0, SigningSecret: 's3cret-s3cret' };
  }
  if (p.endsWith('/webhook.svc/update')) return { WebhookId: ids.webhookId ?? '', Description: 'changed', StatusCode: 0, ExecutionDelay: 5, CustomHeaders: [{ Key: 'X-Team', Value: 'ops' }] };
  if (p.endsWith('/webhook.svc/delete')) return { WebhookId: ids.webhookId ?? '' };
  if (p === '/_leadtrail/faults') return { path: '/v2/LeadManagement.svc/Lead.Create', status: 503, latencyMs: 1, times: 1 };
  return undefined;
}

/**
 * The query a route's template needs to get past its lookups (the lead `leadId` names for
 * Lead.Update, Lead.Convert, /lead/update and Retrieve; `searchBy` for ByLeadField), or none.
 */
export function queryFor(path: string, ids: SeedIds): string[] {
  const p = path.toLowerCase();
  if (p.endsWith('/lead.update') || p.endsWith('/lead.convert') || p === '/lead/update' || p.endsWith('/prospectactivity.svc/retrieve')) return [`leadId=${ids.leadId}`];
  if (p.endsWith('/byleadfield')) return ['searchBy=EmailAddress'];
  return [];
}

type Json = unknown;
type Path = (string | number)[];

function pathsOf(v: Json, at: Path = [], out: Path[] = []): Path[] {
  out.push(at);
  if (Array.isArray(v)) v.forEach((x, i) => pathsOf(x, [...at, i], out));
  else if (typeof v === 'object' && v !== null) for (const k of Object.keys(v)) pathsOf((v as Record<string, Json>)[k], [...at, k], out);
  return out;
}

/** Sets an own property even for `__proto__`, which plain assignment would treat as the prototype. */
function put(o: Record<string | number, Json>, k: string | number, v: Json): void {
  Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
}

/** How many nodes (objects, arrays, values, the root) a body has: the `at` range of a mutation. */
export const nodeCount = (v: Json): number => pathsOf(v).length;

export interface Mutation {
  op: 'set' | 'delete' | 'wrap' | 'unwrap' | 'addKey' | 'recase';
  at: number;
  key: string;
  value: Json;
}

const mutation: fc.Arbitrary<Mutation> = fc.record({
  op: fc.constantFrom('set', 'set', 'set', 'delete', 'wrap', 'unwrap', 'addKey', 'recase'),
  at: fc.nat(),
  key: hostileKey,
  value: hostileValue,
});

export function mutate(template: Json, ms: Mutation[]): Json {
  let root: Json = structuredClone(template);
  for (const m of ms) {
    const paths = pathsOf(root);
    const path = paths[m.at % paths.length];
    const get = (p: Path) => p.reduce<Json>((o, k) => (o as Record<string | number, Json>)[k], root);
    const cur = get(path);
    const next =
      m.op === 'set' ? m.value
      : m.op === 'wrap' ? [cur]
      : m.op === 'unwrap' ? (Array.isArray(cur) ? (cur[0] ?? {}) : typeof cur === 'object' && cur !== null ? Object.values(cur) : cur)
      : cur;
    if (path.length === 0) {
      if (m.op === 'delete') root = undefined;
      else if (m.op === 'addKey' && typeof cur === 'object' && cur !== null && !Array.isArray(cur)) put(cur as Record<string, Json>, m.key, m.value);
      else root = next;
      continue;
    }
    const parent = get(path.slice(0, -1)) as Record<string | number, Json>;
    const k = path[path.length - 1];
    if (m.op === 'delete') {
      if (Array.isArray(parent)) parent.splice(k as number, 1);
      else delete parent[k];
    } else if (m.op === 'addKey') {
      if (typeof cur === 'object' && cur !== null && !Array.isArray(cur)) put(cur as Record<string, Json>, m.key, m.value);
      else put(parent, k, m.value);
    } else if (m.op === 'recase' && typeof k === 'string') {
      delete parent[k];
      put(parent, k === k.toLowerCase() ? k.toUpperCase() : k.toLowerCase(), cur);
    } else {
      put(parent, k, next);
    }
  }
  return root;
}

/** Strings that engines and parsers treat specially, for the every-string-at-once cases. */
export const NASTY = ['a\u0000b', '\ud800x', "'; DROP TABLE leads;--", '😀\u202e\u0645\u0631', '__proto__'];

/** The body with every string in it (not the keys) replaced by `to`. */
export function replaceStrings(v: Json, to: string): Json {
  if (typeof v === 'string') return to;
  if (Array.isArray(v)) return v.map((x) => replaceStrings(x, to));
  if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, replaceStrings(x, to)]));
  return v;
}

/** JSON text, with the deep-nesting stand-ins expanded. `undefined` (a deleted root) is no body. */
export function jsonText(v: Json): string | undefined {
  const t = JSON.stringify(v);
  return t === undefined ? undefined : t.replace(/"(@@deep-(?:array|object)@@)"/g, (_, k: string) => DEEP[k]);
}

export interface RawBody {
  label: string;
  bytes: string | Uint8Array;
  contentType?: string;
}

/** Bodies that are not (good) JSON, sent as they are. */
export const RAW_BODIES: RawBody[] = [
  { label: 'empty', bytes: '' },
  { label: 'whitespace', bytes: ' \r\n\t ' },
  { label: 'null', bytes: 'null' },
  { label: 'true', bytes: 'true' },
  { label: 'zero', bytes: '0' },
  { label: 'string', bytes: '"hello"' },
  { label: 'huge number', bytes: '1'.repeat(5_000) },
  { label: 'truncated object', bytes: '{"a":' },
  { label: 'truncated array', bytes: '[{' },
  { label: 'trailing comma', bytes: '{"a":1,}' },
  { label: 'single quotes', bytes: "{'a':1}" },
  { label: 'NaN literal', bytes: '{"Value":NaN}' },
  { label: 'undefined', bytes: 'undefined' },
  { label: 'comment', bytes: '/* x */ {}' },
  { label: 'two documents', bytes: '{}{}' },
  { label: 'NUL byte', bytes: '\u0000' },
  { label: 'deep arrays 10k', bytes: DEEP['@@deep-array@@'] },
  { label: 'deep objects 10k', bytes: DEEP['@@deep-object@@'] },
  { label: 'unclosed deep arrays', bytes: '['.repeat(50_000) },
  { label: 'proto pollution', bytes: '{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}}}' },
  { label: 'duplicate keys', bytes: '{"LeadDetails":[],"leaddetails":{},"Activity":1,"ACTIVITY":[]}' },
  { label: 'invalid UTF-8', bytes: Uint8Array.from([0x5b, 0x7b, 0x22, 0x41, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0xc0, 0x80, 0xed, 0xa0, 0x80, 0x22, 0x7d, 0x5d]) },
  { label: 'UTF-16 body', bytes: Uint8Array.from(Buffer.from('[{"Attribute":"FirstName","Value":"x"}]', 'utf16le')), contentType: 'application/json; charset=utf-16' },
  { label: 'form body', bytes: 'a=1&b=2', contentType: 'application/x-www-form-urlencoded' },
  { label: 'multipart body', bytes: '--x\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--x--', contentType: 'multipart/form-data; boundary=x' },
  { label: 'xml body', bytes: '<Lead><Email>a@b.co</Email></Lead>', contentType: 'application/xml' },
  { label: 'garbage content type', bytes: '{}', contentType: ';;;/===' },
];

/** Query parameters any route might read (names as LeadSquared documents them; the server lower-cases). */
export function knownParams(ids: SeedIds): Record<string, string> {
  return {
    leadId: ids.leadId,
    id: ids.leadId,
    emailaddress: ids.email,
    phone: ids.phone,
    code: String(ids.eventCode),
    activityId: ids.activityId,
    searchBy: 'EmailAddress',
    schemaName: 'EmailAddress',
    excludeOptionSets: 'true',
    LeadUpdateBehavior: 'DoNotUpdate',
    PostUpdatedLead: 'false',
    requestId: ids.requestId,
    key: 'seed',
  };
}

/** Percent-encodes UTF-8 bytes (lone surrogates become U+FFFD, which encodeURIComponent refuses). */
export function pct(s: string): string {
  return [...Buffer.from(s, 'utf8')].map((b) => (/[A-Za-z0-9\-_.~]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).padStart(2, '0').toUpperCase()}`)).join('');
}

/** Values put into the URL as they are: broken percent-encoding and bytes that are not UTF-8. */
const RAW_QUERY_VALUES = ['%', '%zz', '%E0%A4%A', '%ff%fe', '%ED%A0%80', '%00', '%C0%AF', 'a+b', '&&&', '==='];

export type AuthMode = 'query' | 'headers' | 'none' | 'wrong' | 'hostile' | 'no-api-key' | 'wrong-api-key';

export interface HostileRequest {
  method: string;
  path: string;
  /** Already encoded `name=value` pairs. */
  query: string[];
  body: RawBody | null;
  auth: AuthMode;
}

const paramValue = (valid: string) =>
  fc.oneof(
    { weight: 3, arbitrary: fc.constant(pct(valid)) },
    { weight: 3, arbitrary: hostileString.filter((s) => s.length < 2_000).map(pct) },
    { weight: 1, arbitrary: fc.constantFrom(...RAW_QUERY_VALUES) },
    { weight: 1, arbitrary: fc.constant(pct(HUGE.slice(0, 20_000))) },
  );

/** Requests for one route: mostly its own method and a mutated template, sometimes anything. */
export function requestArb(route: { method: string; path: string }, ids: SeedIds): fc.Arbitrary<HostileRequest> {
  const template = templateFor(route.path, ids);
  const json = (v: Json, contentType = 'application/json'): RawBody | null => {
    const t = jsonText(v);
    return t === undefined ? null : { label: 'json', bytes: t, contentType };
  };
  const body: fc.Arbitrary<RawBody | null> =
    template === undefined
      ? fc.oneof(fc.constant(null), fc.constantFrom(...RAW_BODIES), hostileValue.map((v) => json(v)))
      : fc.oneof(
          { weight: 6, arbitrary: fc.array(mutation, { minLength: 1, maxLength: 3 }).map((ms) => json(mutate(template, ms))) },
          { weight: 2, arbitrary: fc.constantFrom(...RAW_BODIES) },
          { weight: 1, arbitrary: hostileValue.map((v) => json(v)) },
          { weight: 1, arbitrary: fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', '').map((ct) => json(template, ct)) },
        );
  const params = knownParams(ids);
  const query = fc
    .tuple(...Object.entries(params).map(([name, valid]) => fc.option(fc.tuple(fc.constantFrom(name, name.toUpperCase(), name.toLowerCase()), paramValue(valid)), { freq: 2 })))
    .map((pairs) => pairs.filter((p): p is [string, string] => p !== null).map(([n, v]) => `${n}=${v}`));
  const path = fc.constantFrom(route.path, route.path.toLowerCase(), route.path.toUpperCase(), `${route.path}/`, route.path.replace(/\//g, '//'));
  const method = fc.oneof({ weight: 12, arbitrary: fc.constant(route.method) }, { weight: 1, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH') });
  const auth = fc.oneof(
    { weight: 10, arbitrary: fc.constantFrom<AuthMode>('query', 'headers') },
    { weight: 1, arbitrary: fc.constantFrom<AuthMode>('none', 'wrong', 'hostile', 'no-api-key', 'wrong-api-key') },
  );
  return fc.record({ method, path, query, body, auth });
}
