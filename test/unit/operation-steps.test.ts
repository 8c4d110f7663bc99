/**
 * The operations' two steps (wire/operations.ts): the sync door reads a body on the event loop
 * (`readOperation`) and sends SQLite's writer thread only what was read; the async worker does the
 * same for each request it applies (`readRequest`). What was read must cross the thread boundary
 * unchanged, a bad body must get the error the whole operation gives, and the thread must get the
 * read, not the body, to read again.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Ctx } from '../../src/domain/context.js';
import { MxError } from '../../src/domain/errors.js';
import type { AsyncRequest, RequestKind } from '../../src/domain/types.js';
import { openThreadedSqliteStore } from '../../src/storage/sqlite/thread-store.js';
import { OPERATIONS, readOperation, readRequest, runOperation, type OperationInput } from '../../src/wire/operations.js';
import { parseJsonBody } from '../../src/wire/json-body.js';
import type { Repos } from '../../src/storage/store.js';
import { tempDir } from '../helpers/server.js';

const input = (body: unknown, params: Record<string, string> = {}): OperationInput => ({ accountId: 'acct', body, params, requestId: null });
const LEAD = '6f9619ff-8b86-4d11-b42d-00c04fc964ff';

/** Bodies each operation accepts, with what is awkward to carry: long numbers, other scripts, nested values. */
const VALID: [RequestKind, OperationInput][] = [
  ['activity.create', input({ RelatedProspectId: LEAD, ActivityEvent: 201, ActivityNote: 'नमस्ते 👋', Fields: [{ SchemaName: 'mx_Custom_1', Value: '12345678901234567890' }] })],
  ['activity.create', input(parseJsonBody('{"EmailAddress":"ana@steps.example","FirstName":"Ana","ActivityEvent":201,"ActivityDateTime":"2026-12-04 10:00:00","mx_Long":98765432109876543210}'))],
  ['activity.createcustom', input({ LeadDetails: [{ Attribute: 'EmailAddress', Value: 'bo@steps.example' }, { Attribute: 'SearchBy', Value: 'EmailAddress' }], Activity: { ActivityEvent: 201, ActivityNote: 'custom', Fields: [{ SchemaName: 'mx_Custom_2', Value: 'x' }] }, ValidateDropDownOptions: true })],
  ['lead.capture', input([{ Attribute: 'EmailAddress', Value: 'cy@steps.example' }, { Attribute: 'FirstName', Value: 'Cy' }], { leadupdatebehavior: 'updateonlyemptyfields' })],
  ['lead.update', input([{ Attribute: 'Phone', Value: '+91-9876500001' }], { leadid: LEAD })],
];

/** Inputs each operation refuses before it reads or writes anything. */
const INVALID: [RequestKind, OperationInput][] = [
  ['activity.create', input({})],
  ['activity.create', input({ RelatedProspectId: LEAD, ActivityEvent: 201, Fields: 'not a list' })],
  ['activity.create', input([1, 2])],
  ['activity.createcustom', input({ Activity: { ActivityEvent: 201 } })],
  ['lead.capture', input([{ Attribute: 'EmailAddress', Value: 'x@steps.example' }], { leadupdatebehavior: 'Sometimes' })],
  ['lead.capture', input('text')],
  ['lead.update', input([{ Attribute: 'Phone', Value: '1' }])],
  ['lead.update', input({ Attribute: 'Phone' }, { leadid: LEAD })],
];

const ctx: Ctx = { now: () => 1_700_000_000_000, newId: () => LEAD, userId: null };
/** Repos that refuse any use: these inputs must be refused before the operation touches the store. */
const untouchable = new Proxy({}, { get: (_t, name) => { throw new Error(`the operation used tx.${String(name)}`); } }) as Repos;

const errorOf = (e: unknown) => (e instanceof MxError ? { type: e.type, message: e.message, status: e.status } : e);

describe('operation steps', () => {
  it.each(VALID)('what %s reads is plain data: it crosses to another thread unchanged', (kind, i) => {
    const read = readOperation(kind, i);
    expect(structuredClone(read)).toStrictEqual(read);
  });

  it.each(INVALID)('a bad input of %s gets from its read step the error the whole operation gives', async (kind, i) => {
    let fromRead: unknown;
    try {
      readOperation(kind, i);
    } catch (e) {
      fromRead = e;
    }
    expect(fromRead).toBeInstanceOf(MxError);
    const whole = await OPERATIONS[kind](untouchable, ctx, i).then(
      () => 'answered',
      (e: unknown) => e,
    );
    expect(errorOf(whole)).toEqual(errorOf(fromRead));
  });

  it("an async request is read as the sync door reads it; a body it refuses is left for the application, which records the error", () => {
    const request = (kind: RequestKind, body: string, params: Record<string, string> = {}) => ({ id: 'r1', accountId: 'acct', kind, body, params }) as AsyncRequest;
    const body = '{"RelatedProspectId":"6f9619ff-8b86-4d11-b42d-00c04fc964ff","ActivityEvent":201,"mx_Long":98765432109876543210}';
    expect(readRequest(request('activity.create', body))).toStrictEqual(readOperation('activity.create', { ...input(parseJsonBody(body)), requestId: 'r1' }));
    expect(readRequest(request('activity.create', '{}'))).toBeUndefined();
    expect(readRequest(request('lead.update', '[{"Attribute":"Phone","Value":"1"}]'))).toBeUndefined();
  });

  it('the sync door sends SQLite\'s writer thread what it read, not the body or the query; a bad body never reaches the thread', async () => {
    // The thread's `activity.create` answers with the input it was sent (test/helpers/writer-echo-ops.mjs).
    const store = await openThreadedSqliteStore(path.join(tempDir(), 'steps.db'), { operations: { url: new URL('../helpers/writer-echo-ops.mjs', import.meta.url) } });
    try {
      // The call's query, keys included, stays on this side: the read step took what it needs.
      const sent = { ...VALID[0][1], params: { accesskey: 'u$r0001', secretkey: 'secret' } };
      const received = (await runOperation(store, 'activity.create', ctx, sent)) as OperationInput;
      expect(received.body).toBeNull();
      expect(received.read).toStrictEqual(readOperation('activity.create', sent));
      expect(received.params).toEqual({});
      const [, bad] = INVALID[0];
      await expect(runOperation(store, 'activity.create', ctx, bad)).rejects.toBeInstanceOf(MxError);
    } finally {
      await store.close();
    }
  });
});
