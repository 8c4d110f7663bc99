/**
 * Every path leadtrail serves, one line each: method, path, who may call it, handler. Paths and
 * query-parameter names match case-insensitively, as LeadSquared's WCF services do. What each route
 * reads and answers is its endpoint schema in src/schemas (test/openapi names a route without one).
 */
import type { Services } from '../services.js';
import type { AuthKind } from './auth.js';
import type { Handler } from './handler.js';
import * as asyncApi from './compat/async.js';
import * as lm from './compat/lead-management.js';
import * as pa from './compat/prospect-activity.js';
import { retrieveByActivityEvent } from './compat/activities-by-event.js';
import * as leadSearch from './compat/lead-search.js';
import { activityTypeUpdate, activityUpdate } from './compat/activity-update.js';
import * as admin from './admin.js';
import * as leadBulk from './compat/lead-bulk.js';
import { leadConvert } from './compat/lead-convert.js';
import { createLeadField } from './compat/lead-fields.js';
import { getJournalEntry, listJournal } from './journal.js';
import { activitiesRecentlyModified, bulkActivityUpdate } from './compat/activity-bulk.js';
import * as webhooks from './compat/webhooks.js';

export interface Route {
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  auth: AuthKind;
  handler: Handler;
  /**
   * When given, the route exists only with this switch on (`LEADTRAIL_FAULTS`, `LEADTRAIL_SANDBOX`);
   * off, a call to it is told which (server.ts).
   */
  needs?: 'faults' | 'sandbox';
  /**
   * A GET that changes data (LeadSquared's `GET Lead/Delete/ById`, `GET Webhook.svc/Delete`): no
   * HEAD is answered on it (405). Fastify answers HEAD on every GET route by running its handler, so
   * a link checker's or a monitor's HEAD deleted the lead (a fresh-eyes run).
   */
  changes?: true;
}

/** The setting that turns a route's switch on, as the README's configuration table names it. */
export const SWITCHES: Record<NonNullable<Route['needs']>, string> = { faults: 'LEADTRAIL_FAULTS', sandbox: 'LEADTRAIL_SANDBOX' };

const PA = '/v2/ProspectActivity.svc';
const LM = '/v2/LeadManagement.svc';

export const ROUTES: Route[] = [
  { method: 'POST', path: `${PA}/Create`, auth: 'sync', handler: pa.create },
  { method: 'POST', path: `${PA}/CreateCustom`, auth: 'sync', handler: pa.createCustom },
  { method: 'POST', path: `${PA}/Bulk/CustomActivity/Add/ByLeadId`, auth: 'bulk', handler: pa.bulkByLeadId },
  { method: 'POST', path: `${PA}/Bulk/CustomActivity/Add/ByLeadField`, auth: 'bulk', handler: pa.bulkByLeadField },
  { method: 'GET', path: `${PA}/ActivityTypes.Get`, auth: 'sync', handler: pa.activityTypesGet },
  { method: 'POST', path: `${PA}/CreateType`, auth: 'sync', handler: pa.createType },
  { method: 'GET', path: `${PA}/CustomActivity/GetActivitySetting`, auth: 'sync', handler: pa.getActivitySetting },
  { method: 'POST', path: `${PA}/Retrieve`, auth: 'sync', handler: pa.retrieve },
  { method: 'GET', path: `${PA}/GetActivityDetails`, auth: 'sync', handler: pa.getActivityDetails },
  { method: 'POST', path: `${PA}/CustomActivity/RetrieveByActivityEvent`, auth: 'sync', handler: retrieveByActivityEvent },
  { method: 'POST', path: `${PA}/CustomActivity/Update`, auth: 'sync', handler: activityUpdate },
  { method: 'POST', path: `${PA}/CustomActivityType/Update`, auth: 'sync', handler: activityTypeUpdate },
  { method: 'POST', path: `${PA}/Bulk/CustomActivity/Update`, auth: 'bulk', handler: bulkActivityUpdate },
  { method: 'POST', path: `${PA}/RetrieveRecentlyModified`, auth: 'sync', handler: activitiesRecentlyModified },

  { method: 'GET', path: `${LM}/Leads.GetById`, auth: 'sync', handler: lm.getById },
  { method: 'GET', path: `${LM}/Leads.GetByEmailaddress`, auth: 'sync', handler: lm.getByEmail },
  { method: 'GET', path: `${LM}/RetrieveLeadByPhoneNumber`, auth: 'sync', handler: lm.getByPhone },
  { method: 'GET', path: `${LM}/Leads.GetByQuickSearch`, auth: 'sync', handler: lm.quickSearch },
  { method: 'GET', path: `${LM}/LeadsMetaData.Get`, auth: 'sync', handler: lm.metaData },
  { method: 'POST', path: `${LM}/CreateLeadField`, auth: 'sync', handler: createLeadField },
  { method: 'POST', path: `${LM}/Lead.Create`, auth: 'sync', handler: lm.leadCreate },
  { method: 'POST', path: `${LM}/Lead.Update`, auth: 'sync', handler: lm.leadUpdate },
  { method: 'POST', path: `${LM}/Lead.Capture`, auth: 'sync', handler: lm.capture },
  { method: 'POST', path: `${LM}/Lead.CreateOrUpdate`, auth: 'sync', handler: lm.createOrUpdate },
  { method: 'POST', path: `${LM}/Lead.Convert`, auth: 'sync', handler: leadConvert },
  { method: 'GET', path: `${LM}/Lead/Delete/ById`, auth: 'sync', handler: lm.leadDelete, changes: true },
  { method: 'POST', path: `${LM}/Lead/Delete/ById`, auth: 'sync', handler: lm.leadDelete },
  { method: 'POST', path: `${LM}/Lead/Bulk/Create`, auth: 'bulk', handler: leadBulk.bulkCreate },
  { method: 'POST', path: `${LM}/Lead/Bulk/CreateOrUpdate`, auth: 'bulk', handler: leadBulk.bulkCreateOrUpdate },
  { method: 'POST', path: `${LM}/Lead/Bulk/Update`, auth: 'bulk', handler: leadBulk.bulkUpdate },
  { method: 'POST', path: `${LM}/Leads.Get`, auth: 'sync', handler: leadSearch.leadsGet },
  { method: 'POST', path: `${LM}/Leads.RecentlyModified`, auth: 'sync', handler: leadSearch.recentlyModified },
  { method: 'POST', path: `${LM}/Leads/Retrieve/ByIds`, auth: 'sync', handler: leadSearch.retrieveByIds },
  { method: 'GET', path: '/v2/Authentication.svc/UserByAccessKey.Get', auth: 'sync', handler: lm.userByAccessKey },
  { method: 'POST', path: '/v2/Webhook.svc/Create', auth: 'sync', handler: webhooks.webhookCreate },
  { method: 'POST', path: '/v2/Webhook.svc/Retrieve', auth: 'sync', handler: webhooks.webhookRetrieve },
  { method: 'POST', path: '/v2/Webhook.svc/Update', auth: 'sync', handler: webhooks.webhookUpdate },
  { method: 'POST', path: '/v2/Webhook.svc/Delete', auth: 'sync', handler: webhooks.webhookDelete },
  { method: 'GET', path: '/v2/Webhook.svc/Delete', auth: 'sync', handler: webhooks.webhookDelete, changes: true },

  { method: 'POST', path: '/activity/create', auth: 'async-submit', handler: asyncApi.accept('activity.create') },
  { method: 'POST', path: '/activity/createcustom', auth: 'async-submit', handler: asyncApi.accept('activity.createcustom') },
  { method: 'POST', path: '/lead/capture', auth: 'async-submit', handler: asyncApi.accept('lead.capture') },
  { method: 'POST', path: '/lead/update', auth: 'async-submit', handler: asyncApi.accept('lead.update') },
  { method: 'GET', path: '/activity/status', auth: 'async-read', handler: asyncApi.status('/activity/status') },
  { method: 'GET', path: '/activity/create/status', auth: 'async-read', handler: asyncApi.status('/activity/create/status') },
  { method: 'GET', path: '/activity/createcustom/status', auth: 'async-read', handler: asyncApi.status('/activity/createcustom/status') },
  { method: 'GET', path: '/lead/status', auth: 'async-read', handler: asyncApi.status('/lead/status') },
  { method: 'GET', path: '/lead/update/status', auth: 'async-read', handler: asyncApi.status('/lead/update/status') },
  { method: 'GET', path: '/activity/create/metrics', auth: 'async-read', handler: asyncApi.metrics('activity.create') },
  { method: 'GET', path: '/activity/createcustom/metrics', auth: 'async-read', handler: asyncApi.metrics('activity.createcustom') },
  { method: 'GET', path: '/lead/capture/metrics', auth: 'async-read', handler: asyncApi.metrics('lead.capture') },
  { method: 'GET', path: '/lead/update/metrics', auth: 'async-read', handler: asyncApi.metrics('lead.update') },

  { method: 'GET', path: '/health', auth: 'none', handler: admin.health },
  { method: 'GET', path: '/health/live', auth: 'none', handler: admin.live },
  { method: 'GET', path: '/health/ready', auth: 'none', handler: admin.ready },
  { method: 'GET', path: '/metrics', auth: 'none', handler: admin.metrics },
  { method: 'POST', path: '/_leadtrail/faults', auth: 'admin', handler: admin.addFault, needs: 'faults' },
  { method: 'GET', path: '/_leadtrail/faults', auth: 'admin', handler: admin.listFaults, needs: 'faults' },
  { method: 'DELETE', path: '/_leadtrail/faults', auth: 'admin', handler: admin.clearFaults, needs: 'faults' },
  { method: 'POST', path: '/_leadtrail/reset', auth: 'admin', handler: admin.reset, needs: 'sandbox' },
  { method: 'GET', path: '/_leadtrail/journal', auth: 'admin', handler: listJournal },
  { method: 'GET', path: '/_leadtrail/journal/:id', auth: 'admin', handler: getJournalEntry },
  { method: 'GET', path: '/_leadtrail/webhooks/deliveries', auth: 'admin', handler: webhooks.listDeliveries },
  { method: 'POST', path: '/_leadtrail/webhooks/deliveries/resend', auth: 'admin', handler: webhooks.resendDelivery },
  { method: 'POST', path: '/_leadtrail/retries/run-now', auth: 'admin', handler: admin.runRetriesNow, needs: 'faults' },
];
