/**
 * Console sessions: a signed cookie, so that every API process on the database accepts it with no
 * session store. The cookie is `<accountId>.<credentialId>.<expiresAtMs>.<sessionId>.<mac>`, where
 * mac = HMAC-SHA256 over the first four parts, keyed by the signing-in credential's stored secret
 * hash. Any process can check it by loading that credential; revoking the key (or changing its
 * secret) ends its sessions at once; nobody without the secret key (or the database) can make one.
 * Signing out writes the session id down (`console_sign_outs`, until it would have expired), so a
 * copy of the cookie stops working too: with the cookie only cleared in the browser, a copy kept
 * working for the rest of its 12 hours (found by a fresh-eyes run).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Credential } from '../domain/types.js';
import type { Store } from '../storage/store.js';

export const SESSION_COOKIE = 'leadtrail_console';
/** A session lasts this long from sign-in (ms). */
export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;

export interface Session {
  accountId: string;
  credentialId: string;
  /** Random, one per sign-in: what a sign-out writes down. */
  sessionId: string;
  /** The access key's label (the access key itself), shown in the header. */
  label: string;
  expiresAt: number;
}

const mac = (key: string, payload: string) => createHmac('sha256', key).update(payload).digest('base64url');

/** The cookie value for a credential that just proved its secret key. */
export function issue(cred: Credential, now: number): string {
  const payload = `${cred.accountId}.${cred.id}.${now + SESSION_TTL_MS}.${randomBytes(16).toString('base64url')}`;
  return `${payload}.${mac(cred.secretHash ?? '', payload)}`;
}

/** Ends `session` for every process and every copy of its cookie (as `verify` will then say). */
export async function end(store: Store, session: Session, now: number): Promise<void> {
  await store.transaction((tx) => tx.accounts.endConsoleSession(session.accountId, session.sessionId, session.expiresAt, now));
}

/** The session a cookie value stands for, or null (malformed, forged, expired, key revoked, signed out). */
export async function verify(store: Store, value: string | undefined, now: number): Promise<Session | null> {
  if (!value) return null;
  const parts = value.split('.');
  if (parts.length !== 5) return null;
  const [accountId, credentialId, exp, sessionId, sig] = parts;
  const expiresAt = Number(exp);
  if (!Number.isSafeInteger(expiresAt) || expiresAt <= now) return null;
  const cred = (await store.accounts.listCredentials(accountId)).find((c) => c.id === credentialId);
  if (!cred || cred.kind !== 'access' || !cred.secretHash || cred.revokedAt !== null) return null;
  const want = Buffer.from(mac(cred.secretHash, `${accountId}.${credentialId}.${exp}.${sessionId}`));
  const got = Buffer.from(sig);
  if (want.length !== got.length || !timingSafeEqual(want, got)) return null;
  if (await store.accounts.consoleSessionEnded(sessionId)) return null;
  return { accountId, credentialId, sessionId, label: cred.label, expiresAt };
}
