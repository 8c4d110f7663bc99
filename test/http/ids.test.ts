/**
 * Ids the server makes (leads, activities, async requests, journal entries) are version 7 UUIDs:
 * GUIDs in LeadSquared's format whose first 48 bits are the creation time, so rows made one after
 * another sit together in every index on their id (src/domain/context.ts). On both engines.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createAccount } from '../../src/domain/accounts.js';
import { uuidv7 } from '../../src/domain/context.js';
import { expectOk } from '../helpers/lsq.js';
import { startServer, type TestServer } from '../helpers/server.js';

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const msOf = (id: string) => parseInt(id.replace(/-/g, '').slice(0, 12), 16);
const LM = '/v2/LeadManagement.svc';
const PA = '/v2/ProspectActivity.svc';

describe('uuidv7', () => {
  it('puts the time in ms first, then version 7, the RFC variant and random bits', () => {
    const t = Date.UTC(2026, 10, 30, 12, 0, 0, 123);
    const id = uuidv7(t);
    expect(id).toMatch(V7);
    expect(msOf(id)).toBe(t);
    expect(msOf(uuidv7(0))).toBe(0);
    expect(msOf(uuidv7(2 ** 48 - 1))).toBe(2 ** 48 - 1);
  });

  it('sorts by time across milliseconds, and never repeats within one', () => {
    const earlier = Array.from({ length: 1000 }, () => uuidv7(1_000));
    const later = Array.from({ length: 1000 }, () => uuidv7(1_001));
    expect(new Set([...earlier, ...later]).size).toBe(2000);
    for (const a of earlier.slice(0, 50)) for (const b of later.slice(0, 50)) expect(a < b).toBe(true);
  });
});

describe('ids made by the server', () => {
  let server: TestServer;
  const s = () => server;
  beforeAll(async () => {
    server = await startServer();
    return () => server.close();
  });

  it('a new lead and its activity get version 7 GUIDs of the time they were made', async () => {
    const before = Date.now();
    const lead = expectOk(await s().call('POST', `${LM}/Lead.Create`, [{ Attribute: 'EmailAddress', Value: 'v7@example.com' }])).Message.Id as string;
    const types = expectOk(await s().call('GET', `${PA}/ActivityTypes.Get`)) as { ActivityEvent: number }[];
    const activity = expectOk(await s().call('POST', `${PA}/Create`, { RelatedProspectId: lead, ActivityEvent: types[0].ActivityEvent, ActivityNote: 'v7' })).Message.Id as string;
    const after = Date.now();
    for (const id of [lead, activity]) {
      expect(id).toMatch(V7);
      expect(msOf(id)).toBeGreaterThanOrEqual(before);
      expect(msOf(id)).toBeLessThanOrEqual(after);
    }
    expect(lead < activity || msOf(lead) === msOf(activity)).toBe(true);
  });

  it('two accounts made back to back get different OrgShortCodes', async () => {
    // Made in the same millisecond, as two accounts made back to back can be.
    const t = Date.now();
    const ctx = { now: () => t, newId: () => uuidv7(t) };
    const made = await Promise.all(['Short A', 'Short B'].map((name) => s().services.store.transaction((tx) => createAccount(tx, ctx, { name }))));
    const codes = await Promise.all(
      made.map(async ({ account, keys }) => {
        const me = expectOk(await s().call('GET', '/v2/Authentication.svc/UserByAccessKey.Get', undefined, { keys }));
        expect(me.OrgId).toBe(account.id);
        expect(me.OrgShortCode).toMatch(/^[0-9a-f]{8}$/);
        return me.OrgShortCode as string;
      }),
    );
    // The two ids share their time digits; the codes must not.
    expect(made[0].account.id.slice(0, 13)).toBe(made[1].account.id.slice(0, 13));
    expect(codes[0]).not.toBe(codes[1]);
  });
});
