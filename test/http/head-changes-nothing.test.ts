/**
 * A HEAD changes nothing. Fastify answers HEAD on every GET route by running the GET's handler and
 * dropping the body, so `HEAD Lead/Delete/ById?leadId=…` deleted the lead for good, and `HEAD
 * Webhook.svc/Delete` the webhook (a fresh-eyes run): link checkers, uptime monitors and proxies
 * send HEAD expecting no effect. The GETs that change data answer HEAD 405 now; every other GET
 * route of the table is sent a HEAD naming the seed lead, activity, webhook and request in every
 * id parameter, and nothing may be gone after. On SQLite and PostgreSQL.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ROUTES } from '../../src/http/routes.js';
import { LM, PA, createLead, createType, getLead } from '../helpers/lsq.js';
import { KEYS, request, started, type TestServer } from '../helpers/server.js';

let s: TestServer;
let lead: string;
let hook: string;
let activity: string;

// With the x-api-key too, so that the async status and metrics routes run their handlers (403 without).
const head = (path: string) => request(s.url, 'HEAD', path, undefined, { headers: { 'x-api-key': KEYS.apiKey } });

beforeAll(async () => {
  s = await started({ LEADTRAIL_FAULTS: 'true', LEADTRAIL_SANDBOX: 'true' });
  const code = await createType(s, { ActivityEventName: 'Head check' });
  lead = await createLead(s, { EmailAddress: 'head.check@example.com' });
  const posted = await s.call('POST', `${PA}/Create`, { RelatedProspectId: lead, ActivityEvent: code });
  expect(posted.status, posted.text).toBe(200);
  activity = posted.body.Message.Id;
  const made = await s.call('POST', '/v2/Webhook.svc/Create', { URL: `${s.url}/nowhere`, WebhookEvent: 7 });
  expect(made.status, made.text).toBe(200);
  hook = made.body.Message.Id;
});

async function stillThere(): Promise<void> {
  expect(await getLead(s, lead), 'the lead').not.toBeNull();
  const a = await s.call('GET', `${PA}/GetActivityDetails?activityId=${activity}`);
  expect(a.status, a.text).toBe(200);
  const hooks = await s.call('POST', '/v2/Webhook.svc/Retrieve', {});
  expect(JSON.stringify(hooks.body), 'the webhook').toContain(hook);
}

describe('HEAD', () => {
  it.each([
    [`${LM}/Lead/Delete/ById`, () => `leadId=${lead}`],
    ['/v2/Webhook.svc/Delete', () => `webhookId=${hook}`],
  ])('on %s, a GET that deletes, is 405 and deletes nothing', async (path, query) => {
    const r = await head(`${path}?${query()}`);
    expect(r.status).toBe(405);
    expect(r.headers.get('allow')?.split(', ').sort()).toEqual(['GET', 'POST']);
    await stillThere();
    // Its GET is still served (here naming nothing that exists): told apart from HEAD, not switched off.
    expect((await s.call('GET', `${path}?${query()}x`)).status).not.toBe(405);
  });

  it('on every other GET route, with every id parameter naming something, changes nothing', async () => {
    const ids = `leadId=${lead}&id=${lead}&activityId=${activity}&webhookId=${hook}&WebhookId=${hook}&RequestID=${lead}&emailaddress=head.check@example.com&key=head`;
    const gets = ROUTES.filter((r) => r.method === 'GET' && !r.changes);
    expect(gets.length).toBeGreaterThan(20);
    for (const r of gets) {
      const res = await head(`${r.path.replace(':id', lead)}?${ids}`);
      expect(res.status, `HEAD ${r.path}`).not.toBe(405);
      expect(res.status, `HEAD ${r.path}: its handler ran`).not.toBe(403);
    }
    await stillThere();
    // A route that changes data is marked so: the table's GETs that are marked are the two above.
    expect(ROUTES.filter((r) => r.changes).map((r) => `${r.method} ${r.path}`)).toEqual([`GET ${LM}/Lead/Delete/ById`, 'GET /v2/Webhook.svc/Delete']);
  });
});
