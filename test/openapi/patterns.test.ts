/**
 * The `pattern`s of the OpenAPI document against the readers they describe: for generated strings
 * (spaces of every kind, signs, leading zeros, fractions, values at and past each bound, words in
 * any case), a string matches a property's pattern exactly when the server's reader takes it. A
 * strict validator built from the document (Prism, a generated client's checks) then neither
 * refuses a request the server takes nor lets through one it refuses. Every number-like property is
 * read by wholeNumber (the webhook ones too), so every one is held to its bounds by its pattern.
 * test/openapi/prism-lenient.test.ts makes the same point over HTTP through Prism.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildOpenApi } from '../../src/http/docs.js';
import { EVENT_CODE } from '../../src/domain/activity-types.js';
import { isMxError } from '../../src/domain/errors.js';
import { schemaNameFor } from '../../src/domain/lead-field-create.js';
import { descending, parseOperator } from '../../src/domain/lead-search.js';
import { INT32, wholeNumber } from '../../src/domain/numbers.js';
import { readBody, readQuery } from '../../src/schemas/endpoint.js';
import { createLeadField, leadsGet, leadsGetByQuickSearch } from '../../src/schemas/lead-management.js';
import { activitiesRecentlyModified, activityRetrieve, activityTypeCreate, retrieveByActivityEvent } from '../../src/schemas/prospect-activity.js';
import { checkDelay, checkEventCode, checkStatusCode, MAX_DELAY_SECONDS } from '../../src/domain/webhooks.js';
import { webhookRetrieve, webhookUpdate } from '../../src/schemas/webhooks.js';
import { digitRange } from '../../src/schemas/patterns.js';

const doc = buildOpenApi() as any;

/** The schema of a request body property: `at` is the operation's path, then property names. */
function bodyProperty(path: string, ...names: string[]): any {
  let s = doc.paths[path].post.requestBody.content['application/json'].schema;
  for (const n of names) s = s.properties[n];
  return s;
}

/** The pattern a JSON Schema takes strings by, as a validator compiles it (Ajv: the `u` flag). */
function patternOf(schema: any): RegExp {
  const p = schema.pattern ?? schema.anyOf?.find((a: any) => a.type === 'string')?.pattern;
  if (typeof p !== 'string') throw new Error(`no pattern in ${JSON.stringify(schema).slice(0, 200)}`);
  return new RegExp(p, 'u');
}

/** Whether `read` takes the value: it returns, or throws an MX error (anything else is the test's failure). */
function takes(read: () => unknown): boolean {
  try {
    read();
    return true;
  } catch (e) {
    if (isMxError(e)) return false;
    throw e;
  }
}

/** Spaces the readers trim (JavaScript's trim() and the pattern's \s agree on these), and U+180E, which neither counts as a space. */
const SPACES = [' ', '\t', '\n', '\u00a0', '\ufeff', '\u2028', '\u3000', '\u180e'];
const pad = fc.array(fc.constantFrom(...SPACES), { maxLength: 2 }).map((a) => a.join(''));

/** Number-like strings: random runs of number characters, and whole numbers near `bounds` written with padding, signs and leading zeros. */
function numberLike(bounds: number[]): fc.Arbitrary<string> {
  const chars = fc.array(fc.constantFrom(...SPACES, '+', '-', '0', '1', '2', '5', '9', '.', 'e', 'E', 'x', 'b', 'a', 'F'), { maxLength: 8 }).map((a) => a.join(''));
  const near = fc.tuple(fc.constantFrom(...bounds), fc.integer({ min: -2, max: 2 })).map(([b, d]) => b + d);
  const written = fc
    .tuple(pad, fc.constantFrom('', '+', '-'), fc.nat({ max: 3 }).map((n) => '0'.repeat(n)), near, fc.constantFrom('', '', '.0', '.', 'e0', '.5'), pad)
    .map(([a, sign, zeros, n, tail, b]) => `${a}${n < 0 ? (sign === '-' ? '' : '-') : sign}${zeros}${Math.abs(n)}${tail}${b}`);
  const long = fc.tuple(fc.nat({ max: 22 }), fc.constantFrom('0', '1', '9')).map(([n, d]) => d.repeat(n + 1));
  return fc.oneof(chars, written, long, fc.constantFrom('', ' ', '  ', '-0', '+0', '00', '0x10', '1e3', 'Infinity', '\u180e1'));
}

/**
 * `words` in random case, with random spaces around, beside near misses (a letter dropped or added).
 * A `k` is sometimes the Kelvin sign (U+212A), which lower-cases to `k`, and an `i` sometimes `İ`
 * (U+0130), which lower-cases to two characters: the readers lower-case, so they take the one and not the other.
 */
function wordLike(words: string[]): fc.Arbitrary<string> {
  const lookAlike: Record<string, string> = { k: '\u212A', i: '\u0130' };
  const cased = fc.tuple(fc.constantFrom(...words), fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 20, maxLength: 20 })).map(([w, how]) =>
    Array.from(w)
      .map((c, i) => (how[i] === 0 && lookAlike[c.toLowerCase()] ? lookAlike[c.toLowerCase()] : how[i] % 2 === 1 ? c.toUpperCase() : c.toLowerCase()))
      .join(''),
  );
  const missed = fc.tuple(cased, fc.nat({ max: 20 }), fc.constantFrom('', 'x', ' ', '_')).map(([w, i, c]) => w.slice(0, i % (w.length + 1)) + c + w.slice((i % (w.length + 1)) + 1));
  return fc.tuple(pad, fc.oneof(cased, missed, fc.constantFrom('', '=', '1', '0', '2', 'é')), pad).map(([a, w, b]) => a + w + b);
}

function agree(pattern: RegExp, reads: (s: string) => boolean, strings: fc.Arbitrary<string>, numRuns = 3000): void {
  fc.assert(
    fc.property(strings, (s) => {
      expect({ s, documented: pattern.test(s) }).toEqual({ s, documented: reads(s) });
    }),
    { numRuns },
  );
}

describe('number-like strings in bodies', () => {
  it('digitRange matches exactly the numerals of its range', () => {
    for (const [lo, hi] of [[0, 0], [0, 9], [1, 35], [0, 86_400], [1, 1_000_000], [7, 7_000], [1, INT32.max], [99, 101]]) {
      const re = new RegExp(`^${digitRange(lo, hi)}$`, 'u');
      fc.assert(
        fc.property(fc.oneof(fc.integer({ min: 0, max: hi * 2 + 20 }), fc.constantFrom(lo, hi, lo - 1, hi + 1, 10, 99, 100)), (n) => {
          expect({ n, matches: re.test(String(n)) }).toEqual({ n, matches: n >= lo && n <= hi });
        }),
        { numRuns: 2000 },
      );
      expect(re.test(`0${lo}`)).toBe(false);
    }
  });

  it("a paging value (L.whole) matches its pattern exactly when Retrieve's schema takes it", () => {
    const pattern = patternOf(bodyProperty('/v2/ProspectActivity.svc/Retrieve', 'Paging', 'RowCount'));
    agree(pattern, (s) => takes(() => readBody(activityRetrieve, { Paging: { RowCount: s } })), numberLike([0, 1000, 10, 999_999_999]));
  });

  it('an Int32 (CreateType Score) matches its pattern exactly when CreateType takes it', () => {
    const pattern = patternOf(bodyProperty('/v2/ProspectActivity.svc/CreateType', 'Score'));
    agree(pattern, (s) => takes(() => readBody(activityTypeCreate, { ActivityEventName: 'x', Score: s })), numberLike([INT32.min, INT32.max, 0, -1]));
  });

  it('an event code matches its pattern exactly when getActivityType reads it (wholeNumber within 1–2147483647; Create refuses blank)', () => {
    const pattern = patternOf(bodyProperty('/v2/ProspectActivity.svc/Create', 'ActivityEvent'));
    agree(pattern, (s) => wholeNumber(s, EVENT_CODE) !== null, numberLike([1, 0, INT32.max, 21]));
    // CustomActivity/Update reads a blank one as absent; RetrieveRecentlyModified only "" .
    agree(patternOf(bodyProperty('/v2/ProspectActivity.svc/CustomActivity/Update', 'ActivityEvent')), (s) => s.trim() === '' || wholeNumber(s, EVENT_CODE) !== null, numberLike([1, INT32.max]));
    agree(patternOf(bodyProperty('/v2/ProspectActivity.svc/RetrieveRecentlyModified', 'Parameter', 'ActivityEvent')), (s) => s === '' || wholeNumber(s, EVENT_CODE) !== null, numberLike([1, INT32.max]));
  });

  it("a Direction of an activity type matches when it is read as 0 or 1 (CreateType's domain rule)", () => {
    const pattern = patternOf(bodyProperty('/v2/ProspectActivity.svc/CreateType', 'Direction'));
    agree(
      pattern,
      (s) => {
        let d: number | undefined;
        if (!takes(() => (d = readBody(activityTypeCreate, { ActivityEventName: 'x', Direction: s }).Direction))) return false;
        return d === undefined || d === 0 || d === 1;
      },
      numberLike([0, 1, 2]),
    );
  });

  it("CreateLeadField's MaxLength matches when its schema takes it", () => {
    const pattern = patternOf(bodyProperty('/v2/LeadManagement.svc/CreateLeadField', 'MaxLength'));
    agree(pattern, (s) => takes(() => readBody(createLeadField, { DisplayName: 'x', DataType: 'Text', MaxLength: s })), numberLike([1, 0, INT32.max]));
  });

  it("Webhook.svc/Retrieve's paging matches its pattern exactly when Retrieve's schema takes it (wholeNumber, as Leads.Get's paging)", () => {
    for (const [name, max] of [['PageIndex', 1_000_000], ['PageSize', 1000]] as const) {
      const schema = bodyProperty('/v2/Webhook.svc/Retrieve', 'Paging', name);
      expect([schema.minimum, schema.maximum]).toEqual([1, max]);
      agree(patternOf(schema), (s) => takes(() => readBody(webhookRetrieve, { Paging: { [name]: s } })), numberLike([1, max, 0, 10]));
    }
  });

  it('webhook codes, delays and Update\'s StatusCode match their patterns exactly when domain/webhooks.ts reads them', () => {
    const create = (name: string) => bodyProperty('/v2/Webhook.svc/Create', name);
    const update = (name: string) => bodyProperty('/v2/Webhook.svc/Update', name);
    for (const delay of [create('ExecutionDelay'), create('Delay'), update('ExecutionDelay')]) {
      agree(patternOf(delay), (s) => takes(() => checkDelay(s)), numberLike([0, MAX_DELAY_SECONDS, 60, 1]));
    }
    // "" is as absent (Create then calls it missing, Update leaves it); anything else must be a code or an event's name.
    for (const event of [create('WebhookEvent'), update('WebhookEvent')]) {
      agree(patternOf(event), (s) => s === '' || takes(() => checkEventCode(s)), fc.oneof(wordLike(['Lead_Post_Create', 'Task_Update', 'Lead_Nowhere']), numberLike([1, 3, 9, 10, 35, 36, INT32.max])));
    }
    agree(patternOf(update('StatusCode')), (s) => s === '' || takes(() => checkStatusCode(s)), numberLike([0, 1, 2]));
    // The schema hands the domain what it read: Update's schema takes every string (the domain judges it).
    expect(takes(() => readBody(webhookUpdate, { WebhookId: 'x', StatusCode: '0x1' }))).toBe(true);
    // Create has no StatusCode of its own (Update only).
    expect(create('StatusCode')).toBeUndefined();
  });
});

describe('enumerated values in any spelling the server takes', () => {
  it("Leads.Get's SqlOperator", () => {
    const pattern = patternOf(bodyProperty('/v2/LeadManagement.svc/Leads.Get', 'Parameter', 'SqlOperator'));
    agree(pattern, (s) => takes(() => parseOperator(s)), wordLike(['=', '<>', '!=', '<', '>', '<=', '>=', 'LIKE', 'IN', 'between']));
    expect(takes(() => readBody(leadsGet, { Parameter: { LookupName: 'EmailAddress', LookupValue: 'a', SqlOperator: ' Like ' } }))).toBe(true);
  });

  it("Sorting.Direction (the lead searches, RetrieveRecentlyModified and RetrieveByActivityEvent)", () => {
    const words = ['0', '1', 'asc', 'ascending', 'desc', 'descending', 'up'];
    agree(patternOf(bodyProperty('/v2/LeadManagement.svc/Leads.Get', 'Sorting', 'Direction')), (s) => takes(() => descending(s)), wordLike(words));
    agree(
      patternOf(bodyProperty('/v2/ProspectActivity.svc/CustomActivity/RetrieveByActivityEvent', 'Sorting', 'Direction')),
      (s) => takes(() => readBody(retrieveByActivityEvent, { Parameter: { ActivityEvent: 21 }, Sorting: { Direction: s } })),
      wordLike(words),
    );
  });

  it('Sorting.ColumnName of the activity reads', () => {
    const words = ['CreatedOn', 'ModifiedOn', 'ActivityDateTime', 'ProspectAutoId'];
    agree(
      patternOf(bodyProperty('/v2/ProspectActivity.svc/RetrieveRecentlyModified', 'Sorting', 'ColumnName')),
      (s) => takes(() => readBody(activitiesRecentlyModified, { Sorting: { ColumnName: s } })),
      wordLike(words),
    );
    agree(
      patternOf(bodyProperty('/v2/ProspectActivity.svc/CustomActivity/RetrieveByActivityEvent', 'Sorting', 'ColumnName')),
      (s) => takes(() => readBody(retrieveByActivityEvent, { Parameter: { ActivityEvent: 21 }, Sorting: { ColumnName: s } })),
      wordLike(words),
    );
  });

  it("Webhook.svc/Retrieve's WebhookEvent (a code or a name, any case) and StatusCode", () => {
    const event = bodyProperty('/v2/Webhook.svc/Retrieve', 'Parameter', 'WebhookEvent');
    agree(patternOf(event), (s) => takes(() => readBody(webhookRetrieve, { Parameter: { WebhookEvent: s } })), fc.oneof(wordLike(['Lead_Post_Create', 'Task_Update', 'Lead_Nowhere']), numberLike([1, 3, 35, 36, 10, INT32.max])));
    const status = bodyProperty('/v2/Webhook.svc/Retrieve', 'Parameter', 'StatusCode');
    agree(patternOf(status), (s) => takes(() => readBody(webhookRetrieve, { Parameter: { StatusCode: s } })), numberLike([0, 1, 2, 3]));
  });
});

describe('length limits on input strings', () => {
  const text = (max: number) =>
    fc.tuple(pad, fc.constantFrom('a', ' ', 'é', '\t'), fc.integer({ min: max - 3, max: max + 3 }), fc.nat({ max: 5 }), pad).map(([a, c, n, k, b]) => a + 'x' + c.repeat(Math.max(0, n - 2)) + (k > 0 ? 'y' : '') + b);

  it('ActivityEventName: at most 200 characters once trimmed, not blank (CreateType, CustomActivityType/Update)', () => {
    for (const path of ['/v2/ProspectActivity.svc/CreateType', '/v2/ProspectActivity.svc/CustomActivityType/Update']) {
      const pattern = patternOf(bodyProperty(path, 'ActivityEventName'));
      agree(pattern, (s) => s.trim() !== '' && s.trim().length <= 200, fc.oneof(text(200), fc.constantFrom('', ' ', '\t\t')), 1000);
    }
  });

  it("Leads.GetByQuickSearch's key: at most 200 characters once trimmed, not blank", () => {
    const param = doc.paths['/v2/LeadManagement.svc/Leads.GetByQuickSearch'].get.parameters.find((p: any) => p.name === 'key');
    agree(patternOf(param.schema), (s) => takes(() => readQuery(leadsGetByQuickSearch, { key: s })), fc.oneof(text(200), fc.constantFrom('', ' ')), 1000);
  });

  it("CreateLeadField's DisplayName: letters, digits, spaces and _, at most 61 once trimmed, a run of spaces counting as one", () => {
    const pattern = patternOf(bodyProperty('/v2/LeadManagement.svc/CreateLeadField', 'DisplayName'));
    const names = fc
      .tuple(pad, fc.array(fc.constantFrom('a', 'Z', '7', '_', ' ', '  ', '\t', '-', 'é'), { minLength: 0, maxLength: 70 }), pad)
      .map(([a, parts, b]) => a + parts.join('') + b);
    agree(
      pattern,
      (s) => {
        const name = schemaNameFor(s);
        return s.trim() !== '' && /^mx_[A-Za-z0-9_]+$/.test(name) && name.length <= 64;
      },
      fc.oneof(names, fc.constantFrom('a'.repeat(61), 'a'.repeat(62), `${'a '.repeat(30)}a`, `${'a '.repeat(31)}a`)),
    );
  });

  it('webhook texts carry the lengths domain/webhooks.ts refuses past', () => {
    const create = (name: string) => bodyProperty('/v2/Webhook.svc/Create', name);
    expect([create('Description').maxLength, create('URL').maxLength, create('SigningSecret').maxLength]).toEqual([2000, 2048, 1024]);
    expect(create('CustomHeaders').maxItems).toBe(50);
    expect(create('CustomHeaders').items.properties.Value.maxLength).toBe(4096);
  });
});

describe('every pattern in the document', () => {
  it('compiles as a validator compiles it (the u flag) and answers a long hostile string at once (no catastrophic backtracking)', () => {
    const patterns = new Set<string>();
    const walk = (n: any): void => {
      if (!n || typeof n !== 'object') return;
      if (typeof n.pattern === 'string') patterns.add(n.pattern);
      for (const v of Object.values(n)) walk(v);
    };
    walk(doc);
    expect(patterns.size).toBeGreaterThan(10);
    const hostile = [' '.repeat(20_000) + 'x', `x${' '.repeat(20_000)}x`, '0'.repeat(20_000) + 'x', `a${' a'.repeat(10_000)}!`, `${'\t'.repeat(10_000)}1${' '.repeat(10_000)}x`];
    for (const p of patterns) {
      const re = new RegExp(p, 'u');
      const t0 = performance.now();
      for (const h of hostile) re.test(h);
      expect(performance.now() - t0, p).toBeLessThan(250);
    }
  });
});
