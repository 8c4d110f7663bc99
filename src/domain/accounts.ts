/**
 * Accounts, their users and keys. Secrets are stored as SHA-256 hashes; a key is shown once,
 * when it is created. Every account starts with the system activity types and lead fields.
 */
import * as nodeCrypto from 'node:crypto';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { seedActivityTypes } from './activity-types.js';
import type { Ctx } from './context.js';
import { mx } from './errors.js';
import { isEmailAddress } from './fields.js';
import { SYSTEM_LEAD_FIELDS } from './leads.js';
import type { Account, Credential, User } from './types.js';
import { UniqueViolation, type Repos, type Store } from '../storage/store.js';

/**
 * SHA-256 of `s` (UTF-8), as 64 hex digits. Every keyed call hashes its secret: `crypto.hash` (Node
 * 20.12 and later) takes about a third of `createHash`'s time (0.7 against 2.3 µs here); older Node
 * 20s fall back to it.
 */
export const sha256: (s: string) => string =
  // Read off the namespace: a named import of an export this Node lacks would not load at all.
  typeof nodeCrypto.hash === 'function' ? (s) => nodeCrypto.hash('sha256', s, 'hex') : (s) => createHash('sha256').update(s).digest('hex');
const randomKey = (prefix: string, bytes: number) => `${prefix}${randomBytes(bytes).toString('hex')}`;

export interface AccessKeyPair {
  accessKey: string;
  secretKey: string;
}

export interface NewAccount {
  account: Account;
  user: User;
  keys: AccessKeyPair;
  apiKey: string;
}

export interface AccountOptions {
  name: string;
  email?: string;
  accessKey?: string | null;
  secretKey?: string | null;
  apiKey?: string | null;
}

/**
 * Creates an account with its first user and keys. A name that is empty or only spaces, or a user
 * email that is not an address (`local@domain.tld`, fields.ts's rule), is MXInvalidInputException;
 * so is a given access key or x-api-key that a key of the database has or had (storeCredential).
 */
export async function createAccount(tx: Repos, ctx: Ctx, opts: AccountOptions): Promise<NewAccount> {
  if (opts.name.trim() === '') throw mx.invalidInput('An account needs a name that is not empty.');
  if (opts.email !== undefined && !isEmailAddress(opts.email)) throw mx.invalidInput(`The user's email '${opts.email.slice(0, 100)}' is not an email address.`);
  const now = ctx.now();
  const account: Account = { id: ctx.newId(), name: opts.name, createdAt: now };
  await tx.accounts.create(account);
  const email = opts.email ?? `admin@${opts.name.toLowerCase().replace(/[^a-z0-9]+/g, '-') || 'account'}.example`;
  const user: User = { id: ctx.newId(), accountId: account.id, email, firstName: 'Admin', lastName: opts.name, role: 'Administrator', createdAt: now };
  await tx.accounts.createUser(user);
  for (const def of SYSTEM_LEAD_FIELDS) await tx.leadFields.upsert(account.id, def);
  await seedActivityTypes(tx, ctx, account.id);
  const keys = await addAccessKey(tx, ctx, account.id, user.id, opts.accessKey ?? undefined, opts.secretKey ?? undefined);
  const apiKey = await addApiKey(tx, ctx, account.id, opts.apiKey ?? undefined);
  return { account, user, keys, apiKey };
}

/**
 * The user a call acts as: the user of its access key, or the account's first user for a key that
 * has none (the same one `UserByAccessKey.Get` reports). Null when the account has no user.
 */
export async function actingUserId(tx: Pick<Repos, 'accounts'>, accountId: string, credential: Credential | null): Promise<string | null> {
  if (credential?.userId) return credential.userId;
  return (await tx.accounts.firstUser(accountId))?.id ?? null;
}

/**
 * Stores `cred`, a key given by hand or generated. A lookup that any key of the database has, active
 * or revoked, or that another caller stores at the same time, is MXInvalidInputException naming the
 * key (`what`), not the unique index's error. A revoked key is not given back: it was revoked because
 * it had leaked or was done with, and console sessions signed with it would count again.
 */
async function storeCredential(tx: Repos, cred: Credential, what: string): Promise<void> {
  try {
    await tx.accounts.createCredential(cred);
  } catch (e) {
    if (e instanceof UniqueViolation) throw keyTaken(what);
    throw e;
  }
}

/** A key given by hand that a key of the database has or had, of any kind: MXInvalidInputException naming it (`what`). */
const keyTaken = (what: string) =>
  mx.invalidInput(`${what} is already taken by a key of this database, active or revoked: a key is never given twice, and a revoked key stays revoked. Choose another.`);

/** Longest key text given by hand (LeadSquared's own keys are 40 characters or fewer). */
export const GIVEN_KEY_MAX = 256;

/**
 * A key given by hand (access, secret or x-api-key), returned as is when a caller could send it:
 * 1–256 characters of printable ASCII, no space at either end. HTTP trims a header's value
 * (RFC 9110 §5.5) and refuses control characters in it, so a key that breaks these rules could not
 * be sent as `x-LSQ-AccessKey` or `x-api-key`; and a header carries no text encoding, so clients
 * send other characters differently (curl as UTF-8, Node as Latin-1, fetch not at all): an
 * `x-api-key` of `api-键` was accepted and then matched no call (found by a fresh-eyes run).
 * LeadSquared's own keys are ASCII. Otherwise MXInvalidInputException naming `what`.
 */
export function givenKey(key: string, what: string): string {
  if (key.length === 0) throw mx.invalidInput(`${what} is empty: leave it out to have one generated.`);
  if (key.length > GIVEN_KEY_MAX) throw mx.invalidInput(`${what} is ${key.length} characters long; at most ${GIVEN_KEY_MAX}.`);
  if (/[\u0000-\u001f\u007f]/.test(key)) throw mx.invalidInput(`${what} holds a control character (a line break, a tab…), which no HTTP header can carry.`);
  if (/^\s|\s$/.test(key)) throw mx.invalidInput(`${what} starts or ends with a space, which HTTP drops from a header's value: it could never be matched.`);
  const other = /[^\x20-\x7e]/u.exec(key);
  if (other) {
    throw mx.invalidInput(
      `${what} holds '${other[0]}', a character outside printable ASCII, which HTTP clients send in a header each their own way (curl as UTF-8, Node as Latin-1, fetch not at all): it could not be matched from every client.`,
    );
  }
  return key;
}

/**
 * Adds an access/secret key pair to the account, for `userId` (null: the account's first user acts).
 * Either key left out is generated (`u$r` and 32 hex digits; 40 hex digits). Returns the pair, shown
 * only now (the secret is stored as its SHA-256). A given key that no client could send (givenKey),
 * or an access key any key of the database has or had (storeCredential), is MXInvalidInputException.
 */
export async function addAccessKey(tx: Repos, ctx: Ctx, accountId: string, userId: string | null, accessKey?: string, secretKey?: string): Promise<AccessKeyPair> {
  const pair = {
    accessKey: accessKey === undefined ? randomKey('u$r', 16) : givenKey(accessKey, 'The access key'),
    secretKey: secretKey === undefined ? randomBytes(20).toString('hex') : givenKey(secretKey, 'The secret key'),
  };
  const cred: Credential = {
    id: ctx.newId(),
    accountId,
    userId,
    kind: 'access',
    lookup: pair.accessKey,
    label: pair.accessKey,
    secretHash: sha256(pair.secretKey),
    rateLimit: null,
    createdAt: ctx.now(),
    revokedAt: null,
  };
  // An access key stored as another key's x-api-key is taken too (x-api-keys are stored by their
  // hash, which the unique index compares): `keys revoke` of that value then revoked one of the two
  // and said so, while the other went on working (a fresh-eyes run).
  if (accessKey !== undefined && (await tx.accounts.lookupTaken(sha256(pair.accessKey)))) throw keyTaken(`The access key '${pair.accessKey.slice(0, 100)}'`);
  await storeCredential(tx, cred, `The access key '${pair.accessKey.slice(0, 100)}'`);
  return pair;
}

/**
 * Revokes one of the account's active keys, named by its id, its access key, or a whole `x-api-key`
 * (stored only as a hash, and listed by its first characters). Returns false when no active key of
 * the account is named so.
 */
export async function revokeKey(tx: Repos, accountId: string, key: string, at: number): Promise<boolean> {
  return (await tx.accounts.revokeCredential(accountId, key, at)) || tx.accounts.revokeCredential(accountId, sha256(key), at);
}

/**
 * Adds an async `x-api-key` to the account (generated when not given: 40 hex digits) and returns
 * it, shown only now (stored as its SHA-256, listed by its first 6 characters). One that any key of
 * the database has or had is MXInvalidInputException (storeCredential), which does not repeat it;
 * so is a given key that no client could send (givenKey).
 */
export async function addApiKey(tx: Repos, ctx: Ctx, accountId: string, apiKey?: string): Promise<string> {
  const key = apiKey === undefined ? randomKey('', 20) : givenKey(apiKey, 'The x-api-key');
  const cred: Credential = {
    id: ctx.newId(),
    accountId,
    userId: null,
    kind: 'api',
    lookup: sha256(key),
    label: `${key.slice(0, 6)}…`,
    secretHash: null,
    rateLimit: null,
    createdAt: ctx.now(),
    revokedAt: null,
  };
  // An x-api-key that is another key's access key is taken too (see addAccessKey).
  if (apiKey !== undefined && (await tx.accounts.lookupTaken(key))) throw keyTaken(`That x-api-key (${cred.label})`);
  await storeCredential(tx, cred, `That x-api-key (${cred.label})`);
  return key;
}

function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The credential an access/secret key pair belongs to, or an MX 401 error. */
export async function authenticate(store: Store, accessKey: string | null, secretKey: string | null): Promise<Credential> {
  if (!accessKey || !secretKey) throw mx.unauthorized();
  const cred = await store.accounts.findCredential('access', accessKey);
  if (!cred || !cred.secretHash || !sameHash(cred.secretHash, sha256(secretKey))) throw mx.unauthorized();
  return cred;
}

/** The account an async `x-api-key` belongs to, or null. */
export async function accountForApiKey(store: Store, apiKey: string | null): Promise<string | null> {
  if (!apiKey) return null;
  const cred = await store.accounts.findCredential('api', sha256(apiKey));
  return cred?.accountId ?? null;
}
