/**
 * Console sessions: a stateless signed cookie, so that every API process on the database accepts
 * it with no session table. The cookie is `<accountId>.<credentialId>.<expiresAtMs>.<mac>`, where
 * mac = HMAC-SHA256 over the first three parts, keyed by the signing-in credential's stored secret
 * hash. Any process can check it by loading that credential; revoking the key (or changing its
 * secret) ends its sessions at once; nobody without the secret key (or the database) can make one.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Credential } from '../domain/types.js';
import type { Store } from '../storage/store.js';

export const SESSION_COOKIE = 'leadtrail_console';
/** A session lasts this long from sign-in (ms). */
export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;

export interface Session {
  accountId: string;
  credentialId: string;
  /** The access key's label (the access key itself), shown in the header. */
  label: string;
  expiresAt: number;
}

const mac = (key: string, payload: string) => createHmac('sha256', key).update(payload).digest('base64url');

/** The cookie value for a credential that just proved its secret key. */
export function issue(cred: Credential, now: number): string {
  const payload = `${cred.accountId}.${cred.id}.${now + SESSION_TTL_MS}`;
  return `${payload}.${mac(cred.secretHash ?? '', payload)}`;
}

/** The session a cookie value stands for, or null (malformed, forged, expired, key revoked). */
export async function verify(store: Store, value: string | undefined, now: number): Promise<Session | null> {
  if (!value) return null;
  const parts = value.split('.');
  if (parts.length !== 4) return null;
  const [accountId, credentialId, exp, sig] = parts;
  const expiresAt = Number(exp);
  if (!Number.isSafeInteger(expiresAt) || expiresAt <= now) return null;
  const cred = (await store.accounts.listCredentials(accountId)).find((c) => c.id === credentialId);
  if (!cred || cred.kind !== 'access' || !cred.secretHash || cred.revokedAt !== null) return null;
  const want = Buffer.from(mac(cred.secretHash, `${accountId}.${credentialId}.${exp}`));
  const got = Buffer.from(sig);
  if (want.length !== got.length || !timingSafeEqual(want, got)) return null;
  return { accountId, credentialId, label: cred.label, expiresAt };
}
