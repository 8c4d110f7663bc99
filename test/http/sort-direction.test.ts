/**
 * `Sorting.Direction` is read the same on every route that sorts (schemas/lsq.ts sortDirection):
 * 1, desc or descending (the default) and 0, asc or ascending, in any case, spaces around ignored;
 * another value is MXInvalidInputException naming it. Webhook.svc/Retrieve had read every value but
 * `0` as descending: `"asc"` sorted newest first and `"x"` was taken (found by a fresh-eyes run).
 * Every route with a Sorting in its realistic body (test/helpers/hostile.ts), and the order itself on
 * Webhook.svc/Retrieve.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ROUTES } from '../../src/http/routes.js';
import { queryFor, templateFor, type SeedIds } from '../helpers/hostile.js';
import { expectMx, expectOk } from '../helpers/lsq.js';
import { started, type TestServer } from '../helpers/server.js';

const WH = '/v2/Webhook.svc';
const blank: SeedIds = { leadId: 'x', email: 'x', phone: 'x', eventCode: 0, activityId: 'x', requestId: 'x', webhookId: '', hookUrl: 'x' };
const sorted = ROUTES.filter((r) => {
  if (r.auth === 'async-submit' || r.auth === 'none') return false;
  const t = templateFor(r.path, blank) as { Sorting?: { Direction?: unknown } } | null;
  return typeof t === 'object' && t !== null && t.Sorting !== undefined && 'Direction' in t.Sorting;
});

describe('Sorting.Direction', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await started();
  });

  it('is in the realistic body of every route that sorts', () => {
    const paths = sorted.map((r) => r.path.toLowerCase());
    for (const p of ['/leads.get', '/leads/retrieve/byids', '/leads.recentlymodified', '/customactivity/retrievebyactivityevent', '/retrieverecentlymodified', '/webhook.svc/retrieve']) {
      expect(paths.some((x) => x.endsWith(p)), p).toBe(true);
    }
  });

  it.each(['sideways', '2', '-1', 'true'])('%s is refused on every route that sorts, naming Sorting.Direction', async (direction) => {
    for (const r of sorted) {
      const body = templateFor(r.path, blank) as { Sorting: Record<string, unknown> };
      body.Sorting.Direction = direction;
      const query = queryFor(r.path, blank);
      const res = await s.call(r.method, query.length > 0 ? `${r.path}?${query.join('&')}` : r.path, body);
      expectMx(res, 500, 'MXInvalidInputException', "'Sorting.Direction'");
    }
  });

  it('orders Webhook.svc/Retrieve oldest first for 0, asc, ascending in any case, newest first for 1, desc, descending and by default', async () => {
    const made: string[] = [];
    for (const name of ['first', 'second', 'third']) {
      const started = Date.now();
      // Each made in a later millisecond than the one before, so that CreatedOn orders them.
      while (Date.now() === started) await new Promise((r) => setImmediate(r));
      made.push(expectOk(await s.call('POST', `${WH}/Create`, { URL: `http://127.0.0.1:9/${name}`, WebhookEvent: 'Lead_Post_Create', Description: `sort-${name}` })).Message.Id);
    }
    const order = async (direction?: unknown) => {
      const body = { Parameter: { SearchText: 'sort-' }, Sorting: { ColumnName: 'CreatedOn', ...(direction === undefined ? {} : { Direction: direction }) } };
      return (expectOk(await s.call('POST', `${WH}/Retrieve`, body)).Response as { WebhookId: string }[]).map((w) => w.WebhookId);
    };
    for (const d of [0, '0', ' 0 ', 'asc', 'ASC', 'Ascending']) expect(await order(d), String(d)).toEqual(made);
    for (const d of [undefined, null, '', 1, '1', 'desc', 'DESC', ' descending ']) expect(await order(d), String(d)).toEqual([...made].reverse());
  });
});
