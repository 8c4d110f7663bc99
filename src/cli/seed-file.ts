/**
 * The seed file (`leadtrail seed --file fixtures.json`): its shape as a zod schema, from which the
 * committed JSON Schema (docs/seed.schema.json) is generated, and loading it into one account in
 * one transaction through the same domain functions as the API, so LeadSquared's rules, lookups and
 * ProspectAutoId numbering hold as if the entries had been posted.
 *
 * Entries are LeadSquared request bodies: an activity type is a CreateType body, a lead a
 * Lead.Create body (or an object of attribute → value), an activity a ProspectActivity.svc/Create
 * body. The schema checks the outline; the domain checks the rest (with LeadSquared's messages).
 */
import { z } from 'zod';
import { createActivityType } from '../domain/activity-types.js';
import type { Ctx } from '../domain/context.js';
import { isMxError } from '../domain/errors.js';
import { CUSTOM_FIELD_NAME, createLead, defineLeadField, resolveAttributes } from '../domain/leads.js';
import type { Repos } from '../storage/store.js';
import { parseCreateType } from '../wire/activity-type.js';
import { activityCreate } from '../wire/operations.js';
import { readBody } from '../schemas/endpoint.js';
import { leadCreate } from '../schemas/lead-management.js';
import { ignoredFinderFor } from '../schemas/ignored.js';

const scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);

const activityField = z.looseObject({
  SchemaName: z.string().min(1).meta({ description: 'mx_Custom_1 … mx_Custom_50' }),
  DisplayName: z.string().optional(),
  DataType: z.string().optional().meta({ description: 'String, Number, Date, DateTime, Dropdown, …' }),
});

const activityType = z
  .looseObject({
    ActivityEventName: z.string().min(1),
    // Numbers or their text, as CreateType takes them (parseCreateType checks them): the seed
    // refused "202", which the API and `activity-types create` take (a fresh-eyes run).
    ActivityEvent: z.union([z.int32().min(1), z.string()]).optional().meta({ description: 'Pins the event code (otherwise the next free one from 201); a number or its text.' }),
    DisplayName: z.string().optional(),
    Description: z.string().optional(),
    Score: z.union([z.int32(), z.string()]).optional(),
    Direction: z.union([z.int32(), z.string()]).optional(),
    Fields: z.array(activityField).optional(),
  })
  .meta({
    description:
      'A ProspectActivity.svc/CreateType body. A type whose name the account has already is kept as it is, so a seed can run again after `leadtrail reset`.',
  });

const leadField = z
  .strictObject({
    SchemaName: z.string().regex(CUSTOM_FIELD_NAME).meta({ description: 'e.g. mx_Customer_No' }),
    DisplayName: z.string().optional(),
    DataType: z.string().optional().meta({ description: 'String, Number, Decimal, Date, DateTime, Email, Phone, Dropdown, …' }),
    IsUnique: z.boolean().optional().meta({ description: 'Values must be unique per account; usable as SearchBy.' }),
    MaxLength: z.int32().min(1).optional(),
    Options: z.array(z.string()).optional().meta({ description: 'Dropdown options.' }),
  })
  .meta({ description: 'A custom lead field, added or changed as `leadtrail lead-fields set` does.' });

const attribute = z.looseObject({ Attribute: z.string().min(1), Value: scalar });
const lead = z
  .union([z.array(attribute).min(1), z.record(z.string(), scalar)])
  .meta({ description: 'A Lead.Create body ([{"Attribute":"EmailAddress","Value":"…"}, …]) or the same as an object {"EmailAddress":"…", …}.' });

const activity = z
  .looseObject({
    ActivityEvent: z.union([z.int32(), z.string()]),
    EmailAddress: z.string().optional().meta({ description: 'The lead with this email; created when there is none.' }),
    RelatedProspectId: z.string().optional(),
    FirstName: z.string().optional(),
    LastName: z.string().optional(),
    Phone: z.string().optional(),
    ActivityNote: z.string().optional(),
    ActivityDateTime: z.string().optional().meta({ description: 'yyyy-MM-dd HH:mm:ss in UTC, or ISO 8601 with Z or an offset' }),
    Fields: z.array(z.looseObject({ SchemaName: z.string().min(1), Value: scalar })).optional(),
  })
  .meta({ description: 'A ProspectActivity.svc/Create body: by EmailAddress (or RelatedProspectId).' });

export const seedFileSchema = z
  .strictObject({
    $schema: z.string().optional(),
    activityTypes: z.array(activityType).optional(),
    leadFields: z.array(leadField).optional(),
    leads: z.array(lead).optional(),
    activities: z.array(activity).optional(),
  })
  .meta({
    title: 'leadtrail seed file',
    description: 'Loaded by `leadtrail seed --file`, all in one transaction: activity types, then lead fields, then leads, then activities.',
  });

export type SeedFile = z.infer<typeof seedFileSchema>;
/** What a seed may be given as (`startLeadtrail()`'s `seed()`): the file's content before it is read. */
export type SeedInput = z.input<typeof seedFileSchema>;

/** The JSON Schema of the seed file, as committed in docs/seed.schema.json. */
export function seedJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(seedFileSchema, { target: 'draft-2020-12' }) as Record<string, unknown>;
}

/** A seed that cannot be loaded; the message names the entry (`leads[3]`) and what is wrong with it. */
export class SeedError extends Error {
  override name = 'SeedError';
}

/**
 * Checks the seed's outline; throws SeedError naming each bad entry (at most 10). `what` names the
 * seed in the message: the CLI's file by default, `seed()`'s data for startLeadtrail.
 */
export function parseSeedFile(data: unknown, what = 'the seed file'): SeedFile {
  const r = seedFileSchema.safeParse(data);
  if (r.success) return r.data;
  const root = what === 'the seed file' ? '(the file)' : `(${what})`;
  const issues = r.error.issues.flatMap((i) => plainIssues(i, data));
  const lines = issues.slice(0, 10).map((i) => `${pathText(i.path, root)}: ${i.message}`);
  const more = issues.length > 10 ? `\n  … and ${issues.length - 10} more` : '';
  throw new SeedError(`${what} is not valid:\n  ${lines.join('\n  ')}${more}`);
}

type Issue = z.core.$ZodIssue;

/**
 * An issue as a reader can act on it. Zod reports a value no branch of a union takes as "Invalid
 * input" at the union (`leads[0]: Invalid input` for a lead whose one Value was an object: a
 * fresh-eyes run): instead, the issues of the branch that got furthest into the value (a lead's
 * list of attributes, not its other form), and for a value that is none of the branches' types,
 * what they take and what it is. `data` is the whole seed, to say what the value is.
 */
function plainIssues(issue: Issue, data: unknown): { path: PropertyKey[]; message: string }[] {
  if (issue.code !== 'invalid_union' || issue.errors.length === 0) return [{ path: issue.path, message: issue.message }];
  const depth = (branch: Issue[]) => Math.max(...branch.map((i) => i.path.length));
  const best = issue.errors.reduce((a, b) => (depth(b) > depth(a) ? b : a));
  if (depth(best) > 0) return best.flatMap((i) => plainIssues({ ...i, path: [...issue.path, ...i.path] } as Issue, data));
  const expected = [...new Set(issue.errors.flat().flatMap((i) => (i.code === 'invalid_type' ? [i.expected === 'record' ? 'object' : i.expected] : [])))];
  const value = issue.path.reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined), data);
  const got = typeof value === 'number' && !Number.isFinite(value) ? 'a number too large for a double' : Array.isArray(value) ? 'a list' : value === null ? 'null' : typeof value;
  const what = expected.length > 0 ? `expected ${expected.join(', ').replace(/, ([^,]*)$/, ' or $1')}, got ${got}` : issue.message;
  return [{ path: issue.path, message: what }];
}

const pathText = (path: PropertyKey[], root: string) =>
  path.reduce<string>((s, p) => (typeof p === 'number' ? `${s}[${p}]` : s === '' ? String(p) : `${s}.${String(p)}`), '') || root;

export interface SeedResult {
  accountId: string;
  activityTypes: { ActivityEvent: number; ActivityEventName: string }[];
  leadFields: string[];
  leads: string[];
  activities: string[];
}

/** The API body each kind of entry is read as, whose unread properties `ignoredInSeed` names. */
const ENTRY_ROUTES = {
  activityTypes: '/v2/ProspectActivity.svc/CreateType',
  leads: '/v2/LeadManagement.svc/Lead.Create',
  activities: '/v2/ProspectActivity.svc/Create',
} as const;

/**
 * The properties of `f`'s entries that loading does not read, as the API names them for the same
 * body in `X-LeadTrail-Ignored-Properties` (schemas/ignored.ts): `activities[0].ActivityNotes`.
 * Empty when every property is read. A misspelt property in a seed file had been loaded without
 * a word, the value gone (a fresh-eyes run). A lead written as an object has attributes, not
 * properties: an unknown one is refused, not ignored.
 */
export function ignoredInSeed(f: SeedFile): string[] {
  const out: string[] = [];
  for (const [name, route] of Object.entries(ENTRY_ROUTES) as [keyof typeof ENTRY_ROUTES, string][]) {
    const find = ignoredFinderFor('POST', route);
    if (!find) continue;
    for (const [i, entry] of ((f[name] ?? []) as unknown[]).entries()) {
      if (name === 'leads' && !Array.isArray(entry)) continue;
      for (const p of find(entry)) out.push(`${name}[${i}]${p.startsWith('[') ? '' : '.'}${p}`);
    }
  }
  return out;
}

/** How many entries a seed has, for a progress line. */
export const seedSize = (f: SeedFile) => (f.activityTypes?.length ?? 0) + (f.leadFields?.length ?? 0) + (f.leads?.length ?? 0) + (f.activities?.length ?? 0);

/** Something that names an entry for a person: its email or name, when it has one. */
function label(entry: unknown): string {
  if (Array.isArray(entry)) {
    const email = entry.find((a) => typeof a === 'object' && a && /^emailaddress$/i.test(String((a as { Attribute?: unknown }).Attribute)));
    return email ? ` (${String((email as { Value: unknown }).Value)})` : '';
  }
  if (typeof entry === 'object' && entry) {
    const o = entry as Record<string, unknown>;
    const v = o.EmailAddress ?? o.ActivityEventName ?? o.SchemaName ?? o.RelatedProspectId;
    return typeof v === 'string' ? ` (${v.slice(0, 80)})` : '';
  }
  return '';
}

/**
 * Loads `file` into the account inside `tx` (the caller's one transaction): activity types, lead
 * fields, leads, activities, in that order, each through the domain as the API would. Throws
 * SeedError naming the first entry that fails (the caller's transaction then rolls everything back).
 * `progress` is called after each entry.
 */
export async function loadSeed(tx: Repos, ctx: Ctx, accountId: string, file: SeedFile, progress: (stage: string) => void = () => {}): Promise<SeedResult> {
  const out: SeedResult = { accountId, activityTypes: [], leadFields: [], leads: [], activities: [] };
  const each = async <T>(name: keyof SeedFile, list: T[] | undefined, fn: (entry: T) => Promise<void>) => {
    for (const [i, entry] of (list ?? []).entries()) {
      try {
        await fn(entry);
      } catch (e) {
        const why = isMxError(e) ? `${e.message} (${e.type})` : e instanceof Error ? e.message : String(e);
        throw new SeedError(`${String(name)}[${i}]${label(entry)}: ${why}. Nothing was loaded.`);
      }
      progress(String(name));
    }
  };

  await each('activityTypes', file.activityTypes, async (body) => {
    const input = parseCreateType(body);
    const existing = await tx.activityTypes.findByName(accountId, input.name);
    if (existing && input.code !== undefined && existing.code !== input.code) {
      throw new SeedError(`the account has '${input.name}' already, with ActivityEvent ${existing.code}, not ${input.code}`);
    }
    const t = existing ?? (await createActivityType(tx, ctx, accountId, input));
    out.activityTypes.push({ ActivityEvent: t.code, ActivityEventName: t.name });
  });
  await each('leadFields', file.leadFields, async (f) => {
    const def = await defineLeadField(tx, accountId, {
      schemaName: f.SchemaName,
      displayName: f.DisplayName,
      dataType: f.DataType,
      isUnique: f.IsUnique,
      maxLength: f.MaxLength,
      options: f.Options,
    });
    out.leadFields.push(def.schemaName);
  });
  await each('leads', file.leads, async (body) => {
    const list = Array.isArray(body) ? body : Object.entries(body).map(([Attribute, Value]) => ({ Attribute, Value }));
    let read: Parameters<typeof resolveAttributes>[2];
    try {
      read = readBody(leadCreate, list);
    } catch (e) {
      // A lead written as an object has no `[1].Value`: its message names the property instead.
      if (!Array.isArray(body) && isMxError(e)) {
        const names = Object.keys(body);
        e.message = e.message.replace(/'\[(\d+)\]\.(?:Value|Attribute)'/g, (whole, i: string) => (names[Number(i)] !== undefined ? `'${names[Number(i)]}'` : whole));
      }
      throw e;
    }
    const resolved = await resolveAttributes(tx, accountId, read, 'always');
    out.leads.push((await createLead(tx, ctx, accountId, resolved.fields)).id);
  });
  await each('activities', file.activities, async (body) => {
    const answer = (await activityCreate(tx, ctx, { accountId, body, params: {}, requestId: null })) as { Message: { Id: string } };
    out.activities.push(answer.Message.Id);
  });
  return out;
}
