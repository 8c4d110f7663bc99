/**
 * `startLeadtrail()`'s `seed()` and `reset()`, as a vitest suite would use them between tests: the
 * seeded lead is served over HTTP, a bad seed stores nothing, reset empties the account and the seed
 * loads again. (SQLite, the default of startLeadtrail; PostgreSQL through `databaseUrl` in the
 * postgres project.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLeadtrail, type Leadtrail } from '../../src/embed.js';
import { freshSchema, testSchemas } from '../helpers/pg.js';

const SEED = {
  activityTypes: [{ ActivityEventName: 'Trial Started', Score: 5 }],
  leads: [{ EmailAddress: 'ada@example.com', FirstName: 'Ada' }],
  activities: [{ EmailAddress: 'ada@example.com', ActivityEvent: 201 }],
};

let lt: Leadtrail;
beforeAll(async () => {
  let databaseUrl: string | undefined;
  if (process.env.LEADTRAIL_TEST_STORE === 'postgres') {
    const schema = freshSchema();
    testSchemas.add(schema.name);
    databaseUrl = schema.url;
  }
  lt = await startLeadtrail({ databaseUrl });
});
afterAll(() => lt.close());

const lead = async (email: string) => {
  const q = `accessKey=${encodeURIComponent(lt.keys.accessKey)}&secretKey=${lt.keys.secretKey}&emailaddress=${email}`;
  return (await (await fetch(`${lt.baseUrl}/v2/LeadManagement.svc/Leads.GetByEmailaddress?${q}`)).json()) as Record<string, string>[];
};

describe('startLeadtrail seed() and reset()', () => {
  it('seeds, resets and seeds again; a bad seed stores nothing', async () => {
    const out = await lt.seed(SEED);
    expect(out.activityTypes).toEqual([{ ActivityEvent: 201, ActivityEventName: 'Trial Started' }]);
    expect(await lead('ada@example.com')).toMatchObject([{ ProspectAutoId: '1', Score: '5', FirstName: 'Ada' }]);
    // The lead is owned by the keys' user, as if the keys had created it.
    const [ada] = await lead('ada@example.com');
    expect(ada.OwnerId).toMatch(/^[0-9a-f-]{36}$/);

    await expect(lt.seed({ leads: [{ EmailAddress: 'bob@example.com' }], activities: [{ EmailAddress: 'bob@example.com', ActivityEvent: 404 }] })).rejects.toThrow(
      /^activities\[0\] \(bob@example\.com\): Event Code is invalid or empty: 404/,
    );
    expect(await lead('bob@example.com')).toEqual([]);

    expect(await lt.reset()).toEqual({ leads: 1, activities: 1, requests: 0 });
    expect(await lead('ada@example.com')).toEqual([]);
    await lt.seed(SEED);
    expect((await lead('ada@example.com'))[0]).toMatchObject({ Score: '5' });
  });
});
