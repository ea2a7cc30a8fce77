/**
 * Browser sessions for the login, consent and portal pages: a signed `__Host-session` cookie
 * (HttpOnly, Secure, SameSite=Lax, Path=/) holding a random 256-bit session id; the server keeps the session in D1
 * (src/storage/sessions.ts, only the id's SHA-256), so ending it there ends it for every copy of the cookie
 * (issue 10 item 5, ASVS V3.3.1/V3.3.3). Reading a session costs one D1 read, joined with the user.
 * Signed with HMAC-SHA-256 (Hono's signed-cookie helper, WebCrypto) under a key derived from
 * KEY_ENCRYPTION_KEY with HKDF, so the cookie key is never the key-wrapping key itself; the signature lets a
 * forged or garbled cookie be refused without a storage read.
 */
import type { Context } from 'hono';
import { deleteCookie, getSignedCookie, setSignedCookie } from 'hono/cookie';
import { subkey } from '../lib/key-encryption';
import { randomToken, sha256 } from '../lib/random';
import { createSessionStatement, deleteSessionStatement, sessionUserStatement } from '../storage/sessions';
import { type User, userFromRow } from '../storage/users';
import type { AppEnv } from '../types';

/** Sent as `__Host-session`. */
export const SESSION_COOKIE = 'session';
/** A sign-in lasts 8 hours (the row's expires_at decides; the cookie's Max-Age is only a hint), then the user signs in again. */
export const SESSION_SECONDS = 8 * 3600;

/** A live session: its id's hash (to end it) and its user, who is active. */
export interface Session {
  hash: string;
  user: User;
}

const COOKIE_OPTIONS = { prefix: 'host', httpOnly: true, secure: true, sameSite: 'Lax', path: '/' } as const;

/**
 * Starts a session for `userId` (after a successful sign-in): a new id every time (no session fixation), the row
 * written in one batch with `extra` (the throttle reset) and with the end of the session the browser held before.
 */
export async function startSession(
  c: Context<AppEnv>,
  userId: string,
  extra: D1PreparedStatement[] = [],
): Promise<void> {
  const db = c.env.DB;
  const previous = await sessionHash(c);
  const id = randomToken(32);
  await db.batch([
    ...extra,
    ...(previous ? [deleteSessionStatement(db, previous)] : []),
    createSessionStatement(db, await sha256(id), userId, SESSION_SECONDS),
  ]);
  await setSignedCookie(c, SESSION_COOKIE, id, await subkey(c.get('config').keyEncryptionKey, 'session-cookie'), {
    ...COOKIE_OPTIONS,
    maxAge: SESSION_SECONDS,
  });
}

/** The SHA-256 of the session id in a validly signed cookie, or null; reads no storage. */
export async function sessionHash(c: Context<AppEnv>): Promise<string | null> {
  const value = await getSignedCookie(
    c,
    await subkey(c.get('config').keyEncryptionKey, 'session-cookie'),
    SESSION_COOKIE,
    'host',
  );
  if (!value || !/^[A-Za-z0-9_-]{43}$/.test(value)) return null;
  return sha256(value);
}

/** The current session and its (active) user, or null: one D1 read when a signed cookie is present, none otherwise. */
export async function readSession(c: Context<AppEnv>): Promise<Session | null> {
  const hash = await sessionHash(c);
  if (!hash) return null;
  const user = userFromRow(await sessionUserStatement(c.env.DB, hash).first());
  return user ? { hash, user } : null;
}

/** Clears the cookie (the server-side end is src/services/sessions.ts). */
export function clearSessionCookie(c: Context<AppEnv>): void {
  deleteCookie(c, SESSION_COOKIE, COOKIE_OPTIONS);
}
