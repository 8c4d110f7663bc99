/** `/v2/LeadManagement.svc/…` and `/v2/Authentication.svc/…`. */
import { createLead, deleteLead, findLead, findLeadsByPhone, resolveAttributes, upsertLead } from '../../domain/leads.js';
import { mx } from '../../domain/errors.js';
import { readPhone } from '../../domain/phone.js';
import { runWrite } from '../../domain/run.js';
import type { Lead } from '../../domain/types.js';
import { runOperation } from '../../wire/operations.js';
import { readBody, readQuery } from '../../schemas/endpoint.js';
import * as E from '../../schemas/lead-management.js';
import { leadFieldToWire, leadToWire, success } from '../../wire/shapes.js';
import { query } from '../auth.js';
import type { Handler } from '../handler.js';
import { callCtx } from './acting.js';
import { clientGone } from '../../client-gone.js';

export const getById: Handler = async (s, req) => {
  const { id } = readQuery(E.leadsGetById, query(req));
  // Side by side: on PostgreSQL each is a round trip (the field list's is its cache's token read).
  const [lead, defs] = await Promise.all([s.store.leads.get(req.principal.accountId, id), s.store.leadFields.list(req.principal.accountId)]);
  return lead ? [leadToWire(lead, defs)] : [];
};

export const getByEmail: Handler = async (s, req) => {
  const { emailaddress: email } = readQuery(E.leadsGetByEmailaddress, query(req));
  const [lead, defs] = await Promise.all([findLead(s.store, req.principal.accountId, 'EmailAddress', email), s.store.leadFields.list(req.principal.accountId)]);
  return lead ? [leadToWire(lead, defs)] : [];
};

/** Matches Phone and Mobile by the phone rule (domain/phone.ts); with several matches, the lead with the most recent activity. */
export const getByPhone: Handler = async (s, req) => {
  const { phone } = readQuery(E.retrieveLeadByPhoneNumber, query(req));
  const leads = (await findLeadsByPhone(s.store, req.principal.accountId, phone)).sort(
    (a, b) => (b.lastActivityOn ?? 0) - (a.lastActivityOn ?? 0) || b.modifiedOn - a.modifiedOn,
  );
  return leads.length ? [leadToWire(leads[0], await s.store.leadFields.list(req.principal.accountId))] : [];
};

export const metaData: Handler = async (s, req) => {
  const q = readQuery(E.leadsMetaDataGet, query(req));
  let defs = await s.store.leadFields.list(req.principal.accountId);
  if (q.schemaName) defs = defs.filter((d) => d.schemaName.toLowerCase() === q.schemaName!.trim().toLowerCase());
  return defs.map((d) => leadFieldToWire(d, !q.excludeOptionSets));
};

export const leadCreate: Handler = async (s, req) => {
  const attrs = readBody(E.leadCreate, req.body);
  const accountId = req.principal.accountId;
  const ctx = await callCtx(s, req);
  const lead = await s.store.transaction(async (tx) => {
    const r = await resolveAttributes(tx, accountId, attrs, 'always');
    return createLead(tx, ctx, accountId, r.fields);
  });
  return success({ Id: lead.id });
};

/** The same operation as the async `/lead/update` (wire/operations.ts), so that its status `Message` is this answer. */
export const leadUpdate: Handler = async (s, req) => {
  const ctx = await callCtx(s, req);
  return runOperation(s.store, 'lead.update', ctx, { accountId: req.principal.accountId, body: req.body, params: query(req), requestId: null });
};

/**
 * Lead.CreateOrUpdate: the upsert that CreateCustom's lead half runs, on its own: by SearchBy, or
 * by the default lookup (email, then phone numbers). `postUpdatedLead` is accepted and ignored (no
 * automations).
 */
export const createOrUpdate: Handler = async (s, req) => {
  const attrs = readBody(E.leadCreateOrUpdate, req.body);
  const accountId = req.principal.accountId;
  const ctx = await callCtx(s, req);
  const { lead, created } = await runWrite(s.store, async (tx) => upsertLead(tx, ctx, accountId, await resolveAttributes(tx, accountId, attrs, 'always')));
  return success({ Id: lead.id, AffectedRows: 1, IsCreated: created });
};

/**
 * `GET Lead/Delete/ById?leadId=` (LeadSquared's "Delete a Lead") ⇒ `{"Status":"Success"}`: the lead
 * and its activities are deleted for good (domain/leads.ts deleteLead). leadtrail also takes a POST
 * on the same path, `leadId` in the query or, when the query has none, `LeadId` in a JSON body. A
 * missing or blank id is MXMandatoryAttributeMissingException; an unknown one MXInvalidEntityException.
 */
export const leadDelete: Handler = async (s, req) => {
  let id: string | undefined;
  if (req.method === 'GET') id = readQuery(E.leadDeleteById, query(req)).leadId;
  else id = readQuery(E.leadDeleteByIdPost, query(req)).leadId?.trim() || readBody(E.leadDeleteByIdPost, req.body).LeadId?.trim();
  if (!id) throw mx.mandatoryMissing(E.DELETE_LEAD_ID_MISSING);
  const leadId = id;
  await runWrite(s.store, (tx) => deleteLead(tx, req.principal.accountId, leadId));
  return { Status: 'Success' };
};

/** Leads.GetByQuickSearch answers at most this many leads, newest first. */
export const QUICK_SEARCH_MAX = 25;
const QUICK_SEARCH_FIELDS = new Set(['firstname', 'lastname', 'emailaddress', 'phone', 'mobile', 'company']);
/** Name, email, phones, company, and any city or country field (City, mx_City, mx_Country…). */
const quickSearchField = (name: string) => QUICK_SEARCH_FIELDS.has(name.toLowerCase()) || /(city|country)$/i.test(name);

/** A key that reads as a whole phone number (7 digits or more, written with phone punctuation only). */
const looksLikePhone = (key: string) => /^\+?[\d\s\-().]+$/.test(key) && readPhone(key).digits.length >= 7;

/**
 * Text found inside the searched fields, ignoring case. A key that is a phone number also finds the
 * leads whose Phone or Mobile is that number by the phone rule, however either is written; those
 * come first.
 */
export const quickSearch: Handler = async (s, req, reply) => {
  const { key } = readQuery(E.leadsGetByQuickSearch, query(req));
  const accountId = req.principal.accountId;
  const byPhone = looksLikePhone(key) ? await findLeadsByPhone(s.store, accountId, key) : [];
  const byText = await s.store.leads.quickSearch(accountId, { text: key, inField: quickSearchField, limit: QUICK_SEARCH_MAX, signal: clientGone(reply) });
  const seen = new Set<string>();
  const leads = [...byPhone.sort((a, b) => b.createdOn - a.createdOn), ...byText].filter((l) => !seen.has(l.id) && seen.add(l.id));
  const defs = await s.store.leadFields.list(accountId);
  return leads.slice(0, QUICK_SEARCH_MAX).map((l) => leadToWire(l, defs));
};

export const capture: Handler = async (s, req) => {
  const ctx = await callCtx(s, req);
  return runOperation(s.store, 'lead.capture', ctx, { accountId: req.principal.accountId, body: req.body, params: query(req), requestId: null });
};

export const userByAccessKey: Handler = async (s, req) => {
  const { accountId, credential } = req.principal;
  const account = await s.store.accounts.get(accountId);
  const user = (credential?.userId ? await s.store.accounts.getUser(accountId, credential.userId) : null) ?? (await s.store.accounts.firstUser(accountId));
  // Fastify's `host`: the Host header, or X-Forwarded-Host when the peer is a trusted proxy
  // (LEADTRAIL_TRUST_PROXY), so that a client behind the proxy is told the address it called.
  const host = s.config.publicHost ?? (req.host || `${s.config.host}:${s.config.port}`);
  return {
    Id: user?.id ?? null,
    FirstName: user?.firstName ?? null,
    LastName: user?.lastName ?? null,
    Name: user ? `${user.firstName} ${user.lastName}`.trim() : null,
    EmailAddress: user?.email ?? null,
    PassPhrase: user?.email ?? null,
    Role: user?.role ?? null,
    TimeZone: 'UTC',
    OrgId: accountId,
    OrgName: account?.name ?? null,
    // 8 hex digits of the account id. A version 7 id (domain/context.ts) starts with its creation
    // time, which accounts made within a minute share: its last 8 digits are random.
    OrgShortCode: accountId[14] === '7' ? accountId.slice(-8) : accountId.slice(0, 8),
    DefaultCountryCode: '',
    IsDefaultOwner: true,
    LSQCommonServiceURLs: { api: host, app: host, async: host, tracking: host },
  };
};
