/**
 * A key given by hand (createAccount's and addAccessKey's explicit keys, addApiKey's explicit
 * x-api-key) that some key of the database already has, active or revoked, or that two callers add
 * at the same time, is refused with MXInvalidInputException naming the key, never the database's
 * unique-index error: the check looked at active keys only, so a revoked key's access key, an
 * x-api-key, and the second of two adds at once reached the index. Nothing of the refused call stays,
 * and the other writes of its batch go through. On the engine of the vitest project, through the
 * store of a running server.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { addAccessKey, addApiKey, createAccount, revokeKey } from '../../src/domain/accounts.js';
import { isMxError } from '../../src/domain/errors.js';
import { expectMx, expectOk, LM } from '../helpers/lsq.js';
import { KEYS, started, type TestServer } from '../helpers/server.js';

let s: TestServer;
let accountId: string;
beforeAll(async () => {
  s = await started();
  accountId = (await s.services.store.accounts.findCredential('access', KEYS.accessKey))!.accountId;
});

const addAccess = (accessKey: string, secretKey: string) => s.services.store.transaction((tx) => addAccessKey(tx, s.services.ctx, accountId, null, accessKey, secretKey));
const addApi = (apiKey: string) => s.services.store.transaction((tx) => addApiKey(tx, s.services.ctx, accountId, apiKey));

/** What `p` was refused with: its MX type and message (any other error fails the test). */
async function refusal(p: Promise<unknown>): Promise<{ type: string; message: string }> {
  const e = await p.then(
    () => expect.fail('the key was added'),
    (err: unknown) => err,
  );
  if (!isMxError(e)) throw e;
  return { type: e.type, message: e.message };
}

const keyRows = async (label: string) => (await s.services.store.accounts.listCredentials(accountId)).filter((c) => c.label === label);

describe('adding a key the database already has', () => {
  it('an active access key: MXInvalidInputException, and the old secret still works', async () => {
    await addAccess('hand-active', 'first-secret');
    expect(await refusal(addAccess('hand-active', 'second-secret'))).toEqual({ type: 'MXInvalidInputException', message: expect.stringMatching(/access key 'hand-active' is already/) });
    expectOk(await s.call('GET', `${LM}/LeadsMetaData.Get`, undefined, { keys: { accessKey: 'hand-active', secretKey: 'first-secret' } }));
    expectMx(await s.call('GET', `${LM}/LeadsMetaData.Get`, undefined, { keys: { accessKey: 'hand-active', secretKey: 'second-secret' } }), 401, 'MXUnAuthorizedAccessException');
  });

  it('a revoked access key: refused (it stays revoked), not a unique-index error', async () => {
    await addAccess('hand-revoked', 'old-secret');
    expect(await s.services.store.transaction((tx) => revokeKey(tx, accountId, 'hand-revoked', s.services.ctx.now()))).toBe(true);
    const r = await refusal(addAccess('hand-revoked', 'new-secret'));
    expect(r).toEqual({ type: 'MXInvalidInputException', message: expect.stringMatching(/access key 'hand-revoked' .*revoked/) });
    // Neither the old secret nor the new one opens it.
    for (const secretKey of ['old-secret', 'new-secret']) {
      expectMx(await s.call('GET', `${LM}/LeadsMetaData.Get`, undefined, { keys: { accessKey: 'hand-revoked', secretKey } }), 401, 'MXUnAuthorizedAccessException');
    }
    expect((await keyRows('hand-revoked')).map((c) => c.revokedAt !== null)).toEqual([true]);
  });

  it('an x-api-key, active or revoked: refused', async () => {
    await addApi('hand-api-key-1');
    expect(await refusal(addApi('hand-api-key-1'))).toMatchObject({ type: 'MXInvalidInputException', message: expect.stringMatching(/x-api-key .*already/) });
    await addApi('hand-api-key-2');
    expect(await s.services.store.transaction((tx) => revokeKey(tx, accountId, 'hand-api-key-2', s.services.ctx.now()))).toBe(true);
    expect(await refusal(addApi('hand-api-key-2'))).toMatchObject({ type: 'MXInvalidInputException', message: expect.stringMatching(/x-api-key .*revoked/) });
  });

  it("a new account with another account's keys: refused, and no account is left half made", async () => {
    const before = await s.services.store.accounts.count();
    const make = (opts: { accessKey?: string; apiKey?: string }) => s.services.store.transaction((tx) => createAccount(tx, s.services.ctx, { name: 'Second', ...opts }));
    expect(await refusal(make({ accessKey: KEYS.accessKey }))).toMatchObject({ type: 'MXInvalidInputException' });
    expect(await refusal(make({ apiKey: KEYS.apiKey }))).toMatchObject({ type: 'MXInvalidInputException' });
    expect(await s.services.store.accounts.count()).toBe(before);
  });

  it('the same key added twice at once: one is added, the other refused, and a write beside them goes through', async () => {
    for (let round = 0; round < 5; round++) {
      const key = `hand-twice-${round}`;
      const lead = s.call('POST', `${LM}/Lead.Create`, [{ Attribute: 'EmailAddress', Value: `twice${round}@example.com` }]);
      const both = await Promise.allSettled([addAccess(key, 'a-secret'), addAccess(key, 'b-secret')]);
      expect(both.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const [rejected] = both.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(isMxError(rejected.reason) ? rejected.reason.type : rejected.reason).toBe('MXInvalidInputException');
      expectOk(await lead);
      expect(await keyRows(key)).toHaveLength(1);
    }
  });
});
