/**
 * The number fields of Webhook.svc are read as every other number of the API is (wholeNumber: a
 * JSON number, or digits with spaces around, leading zeros and a sign), not as JavaScript's Number()
 * reads text: `"0x10"`, `"1e1"`, `"1.0"`, `"Infinity"` and a blank `" "` (which Number() reads as 0)
 * are refused with the envelope their neighbours answer, and change nothing. Over HTTP, on both
 * engines: Update's StatusCode, Retrieve's Paging and Parameter.StatusCode and WebhookEvent, and
 * Create's WebhookEvent and ExecutionDelay/Delay.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { expectMx, expectOk } from '../helpers/lsq.js';
import { started, type TestServer } from '../helpers/server.js';

const WH = '/v2/Webhook.svc';
/** Spellings Number() reads as a number and wholeNumber does not. */
const NUMBER_ONLY = ['0x10', '1e1', '1.0', 'Infinity', '0b1', '.5e1'];

let s: TestServer;
/** The ids of twelve webhooks of event 3. */
let ids: string[];

async function create(body: Record<string, unknown>): Promise<string> {
  return expectOk(await s.call('POST', `${WH}/Create`, { URL: 'https://example.com/numbers', WebhookEvent: 3, ...body })).Message.Id;
}

async function retrieve(body: unknown): Promise<{ RecordCount: number; Response: { WebhookId: string; StatusCode: number; ExecutionDelay: number; WebhookEvent: number }[] }> {
  return expectOk(await s.call('POST', `${WH}/Retrieve`, body));
}

const one = async (id: string) => (await retrieve({ Parameter: { WebhookId: id } })).Response[0];

beforeAll(async () => {
  s = await started();
  ids = [];
  for (let i = 0; i < 12; i++) ids.push(await create({ Description: `numbers ${i}` }));
});

describe('Webhook.svc/Update StatusCode', () => {
  it('takes 0 and 1 as a number or digits with spaces and leading zeros; "" leaves the status as it is', async () => {
    const id = ids[0];
    for (const [sent, status] of [[' 1 ', 1], ['00', 0], ['01', 1], [0, 0], [1, 1], ['+0', 0]] as const) {
      expectOk(await s.call('POST', `${WH}/Update`, { WebhookId: id, StatusCode: sent }));
      expect({ sent, status: (await one(id)).StatusCode }).toEqual({ sent, status });
    }
    expectOk(await s.call('POST', `${WH}/Update`, { WebhookId: id, StatusCode: '' }));
    expect((await one(id)).StatusCode).toBe(0);
  });

  it('refuses what only Number() reads as 0 or 1, and a blank StatusCode does not enable a disabled webhook', async () => {
    const id = ids[1];
    expectOk(await s.call('POST', `${WH}/Update`, { WebhookId: id, StatusCode: 1, Description: 'disabled' }));
    for (const sent of [' ', '\t', '0x0', '0x1', '1e0', '0e5', '1.0', '0.0', '-0.0', 'Infinity', '0b1', '0o0']) {
      const r = await s.call('POST', `${WH}/Update`, { WebhookId: id, StatusCode: sent, Description: `changed by ${sent}` });
      expectMx(r, 500, 'MXInvalidInputException', /^StatusCode must be 0 \(enabled\) or 1 \(disabled\)\.$/);
    }
    expect(await one(id)).toMatchObject({ StatusCode: 1, Description: 'disabled' });
  });
});

describe('Webhook.svc/Retrieve Paging', () => {
  const page = async (paging: unknown) => (await retrieve({ Sorting: { ColumnName: 'CreatedOn', Direction: 0 }, Paging: paging })).Response.map((w) => w.WebhookId);

  it('PageSize and PageIndex as numbers or digits with spaces and leading zeros, as Leads.Get reads them; blank is the default', async () => {
    const all = await page({ PageSize: 1000 });
    expect([...all].sort()).toEqual([...ids].sort());
    for (const size of [10, ' 10 ', '010', '+10']) expect({ size, got: await page({ PageSize: size }) }).toEqual({ size, got: all.slice(0, 10) });
    for (const index of [2, ' 2 ', '02']) expect({ index, got: await page({ PageIndex: index, PageSize: 10 }) }).toEqual({ index, got: all.slice(10, 12) });
    expect(await page({ PageIndex: ' ', PageSize: '' })).toEqual(all);
  });

  it('refuses what only Number() reads, as Leads.Get refuses a bad PageSize', async () => {
    for (const [name, bad] of [...NUMBER_ONLY.map((v) => ['PageSize', v]), ...['0x2', '2e0', '2.0', 'Infinity', '0b10'].map((v) => ['PageIndex', v])]) {
      const max = name === 'PageSize' ? 1000 : 1_000_000;
      expectMx(await s.call('POST', `${WH}/Retrieve`, { Paging: { [name]: bad } }), 500, 'MXInvalidInputException', `Invalid Input! 'Paging.${name}' must be a whole number from 1 to ${max}.`);
    }
    // The same words and envelope as Leads.Get's Paging.
    const leads = await s.call('POST', '/v2/LeadManagement.svc/Leads.Get', { Parameter: { LookupName: 'FirstName', LookupValue: 'x' }, Paging: { PageSize: '1e1' } });
    expectMx(leads, 500, 'MXInvalidInputException', /^Invalid Input! 'Paging.PageSize' must be a whole number from 1 to \d+\.$/);
  });
});

describe('Webhook.svc/Retrieve Sorting', () => {
  it('sorts by ModifiedOn or CreatedOn in any case, blank as ModifiedOn; another column is refused, not sorted by ModifiedOn in silence', async () => {
    const byCreated = (await retrieve({ Sorting: { ColumnName: 'CreatedOn', Direction: 0 }, Paging: { PageSize: 1000 } })).Response.map((w) => w.WebhookId);
    expect([...byCreated].sort()).toEqual([...ids].sort());
    expect((await retrieve({ Sorting: { ColumnName: ' createdon ', Direction: '0' }, Paging: { PageSize: 1000 } })).Response.map((w) => w.WebhookId)).toEqual(byCreated);
    for (const blank of ['', ' ', null, 'ModifiedOn', 'MODIFIEDON']) expect((await retrieve({ Sorting: { ColumnName: blank } })).RecordCount).toBe(ids.length);
    for (const bad of ['URL', 'Name', 'ModifiedOn2']) {
      expectMx(await s.call('POST', `${WH}/Retrieve`, { Sorting: { ColumnName: bad } }), 500, 'MXInvalidInputException', `Invalid Input! 'Sorting.ColumnName' must be ModifiedOn or CreatedOn; got '${bad}'.`);
    }
  });
});

describe('Webhook.svc/Retrieve Parameter', () => {
  it('StatusCode as a number or digits with spaces and leading zeros; what only Number() reads is refused', async () => {
    expectOk(await s.call('POST', `${WH}/Update`, { WebhookId: ids[2], StatusCode: 1 }));
    const disabled = async (code: unknown) => (await retrieve({ Parameter: { StatusCode: code } })).Response.map((w) => w.WebhookId).sort();
    const want = [ids[1], ids[2]].sort();
    for (const code of [1, ' 1 ', '01', '+1']) expect({ code, ids: await disabled(code) }).toEqual({ code, ids: want });
    for (const bad of ['1.0', '1e0', '0x1', 'Infinity']) {
      expectMx(await s.call('POST', `${WH}/Retrieve`, { Parameter: { StatusCode: bad } }), 500, 'MXInvalidInputException', /StatusCode must be 0 \(enabled\), 1 \(disabled\) or 2/);
    }
  });

  it('WebhookEvent as a code in any spelling wholeNumber reads, or a name; 3.0 and 0x3 are neither', async () => {
    for (const code of [3, ' 3 ', '03', '+3', 'Lead_Post_Create']) expect({ code, count: (await retrieve({ Parameter: { WebhookEvent: code } })).RecordCount }).toEqual({ code, count: 12 });
    for (const bad of ['3.0', '0x3', '3e0']) {
      expectMx(await s.call('POST', `${WH}/Retrieve`, { Parameter: { WebhookEvent: bad } }), 500, 'MXInvalidInputException', `WebhookEvent '${bad}' is not a webhook event`);
    }
  });
});

describe('Webhook.svc/Create WebhookEvent and ExecutionDelay', () => {
  it('take a number or digits with spaces, leading zeros and a sign', async () => {
    for (const [event, delay, want] of [[' 3 ', ' 60 ', 60], ['03', '060', 60], [6, 60, 60], ['+6', '+0', 0]] as const) {
      const w = await one(await create({ WebhookEvent: event, ExecutionDelay: delay }));
      expect({ event, delay, got: [w.WebhookEvent, w.ExecutionDelay] }).toEqual({ event, delay, got: [Number(event), want] });
    }
    expect((await one(await create({ Delay: ' 007 ' }))).ExecutionDelay).toBe(7);
  });

  it('refuse what only Number() reads, and store nothing', async () => {
    const before = (await retrieve({})).RecordCount;
    for (const bad of [...NUMBER_ONLY, ' ', '-1']) {
      expectMx(await s.call('POST', `${WH}/Create`, { URL: 'https://example.com/x', WebhookEvent: 3, ExecutionDelay: bad }), 500, 'MXInvalidInputException', 'ExecutionDelay must be whole seconds from 0 to 86400.');
      expectMx(await s.call('POST', `${WH}/Create`, { URL: 'https://example.com/x', WebhookEvent: 3, Delay: bad }), 500, 'MXInvalidInputException', 'ExecutionDelay must be whole seconds from 0 to 86400.');
    }
    for (const bad of ['3.0', '0x3', '3e0', 'Infinity', ' ']) {
      expectMx(await s.call('POST', `${WH}/Create`, { URL: 'https://example.com/x', WebhookEvent: bad }), 500, 'MXInvalidInputException', `WebhookEvent '${bad}' is not a webhook event: give its code`);
      expectMx(await s.call('POST', `${WH}/Update`, { WebhookId: ids[3], WebhookEvent: bad }), 500, 'MXInvalidInputException', `WebhookEvent '${bad}' is not a webhook event: give its code`);
    }
    expect((await retrieve({})).RecordCount).toBe(before);
    expect((await one(ids[3])).WebhookEvent).toBe(3);
  });
});

describe('Webhook.svc/Create and Update WebhookEvent by name', () => {
  it("take the event's name as Retrieve answers it in EventCode, in any case, and store its code", async () => {
    const id = await create({ WebhookEvent: 'Lead_Post_Create' });
    expect(await one(id)).toMatchObject({ WebhookEvent: 3, EventCode: 'Lead_Post_Create' });
    expectOk(await s.call('POST', `${WH}/Update`, { WebhookId: id, WebhookEvent: ' lead_post_update ' }));
    expect(await one(id)).toMatchObject({ WebhookEvent: 6, EventCode: 'Lead_Post_Update' });
    // What Retrieve answers can be sent back as it is.
    const listed = await one(id);
    expectOk(await s.call('POST', `${WH}/Update`, { WebhookId: id, WebhookEvent: (listed as unknown as { EventCode: string }).EventCode }));
    expect((await one(id)).WebhookEvent).toBe(6);
  });

  it('refuse a name no event has, saying what to give, and store nothing', async () => {
    const before = (await retrieve({})).RecordCount;
    for (const bad of ['Lead_Nowhere', 'Lead Post Create', 'Lead_Post_Create_']) {
      expectMx(await s.call('POST', `${WH}/Create`, { URL: 'https://example.com/x', WebhookEvent: bad }), 500, 'MXInvalidInputException', `WebhookEvent '${bad}' is not a webhook event: give its code (1, 2, 3`);
      expectMx(await s.call('POST', `${WH}/Update`, { WebhookId: ids[4], WebhookEvent: bad }), 500, 'MXInvalidInputException', 'or its name (e.g. Lead_Post_Create).');
    }
    expect((await retrieve({})).RecordCount).toBe(before);
    expect((await one(ids[4])).WebhookEvent).toBe(3);
  });
});
