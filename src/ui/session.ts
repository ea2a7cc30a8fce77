/**
 * Browser sessions for the login, consent and portal pages: a signed `__Host-session` cookie
 * (HttpOnly, Secure, SameSite=Lax, Path=/) holding the user id and an expiry that the server checks.
 * Signed with HMAC-SHA-256 (Hono's signed-cookie helper, WebCrypto) under a key derived from
 * KEY_ENCRYPTION_KEY with HKDF, so the cookie key is never the key-wrapping key itself.
 */
import type { Context } from 'hono';
import { deleteCookie, getSignedCookie, setSignedCookie } from 'hono/cookie';
import { nowSeconds } from '../clock';
import type { Config } from '../config';
import type { AppEnv } from '../types';

/** Sent as `__Host-session`. */
export const SESSION_COOKIE = 'session';
/** A sign-in lasts 8 hours, then the user signs in again. */
export const SESSION_SECONDS = 8 * 3600;

const derived = new WeakMap<Uint8Array, Map<string, Promise<Uint8Array>>>();

/** A 256-bit subkey of KEY_ENCRYPTION_KEY for one purpose (RFC 5869 HKDF-SHA-256, WebCrypto). */
export function subkey(config: Config, purpose: string): Promise<Uint8Array> {
  let byPurpose = derived.get(config.keyEncryptionKey);
  if (!byPurpose) derived.set(config.keyEncryptionKey, (byPurpose = new Map()));
  let key = byPurpose.get(purpose);
  if (!key) {
    key = (async () => {
      const ikm = await crypto.subtle.importKey('raw', config.keyEncryptionKey, 'HKDF', false, ['deriveBits']);
      const bits = await crypto.subtle.deriveBits(
        { name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(0), info: new TextEncoder().encode(`edge-oauth ${purpose} v1`) },
        ikm,
        256,
      );
      return new Uint8Array(bits);
    })();
    byPurpose.set(purpose, key);
  }
  return key;
}

export interface Session {
  userId: string;
  expiresAt: number;
}

/** Starts a session for `userId` (after a successful sign-in). */
export async function startSession(c: Context<AppEnv>, userId: string): Promise<void> {
  const expiresAt = nowSeconds() + SESSION_SECONDS;
  await setSignedCookie(c, SESSION_COOKIE, `${userId}|${expiresAt}`, await subkey(c.get('config'), 'session-cookie'), {
    prefix: 'host',
    httpOnly: true,
    secure: true,
    sameSite: 'Lax',
    path: '/',
    maxAge: SESSION_SECONDS,
  });
}

/** The current session, or null when there is none, its signature is wrong, or it has expired. */
export async function readSession(c: Context<AppEnv>): Promise<Session | null> {
  const value = await getSignedCookie(c, await subkey(c.get('config'), 'session-cookie'), SESSION_COOKIE, 'host');
  if (!value) return null;
  const m = /^([\w-]{1,64})\|(\d{1,12})$/.exec(value);
  if (!m) return null;
  const expiresAt = Number(m[2]);
  // The cookie's Max-Age is only a hint to the browser; the signed expiry is what counts.
  if (expiresAt <= nowSeconds()) return null;
  return { userId: m[1], expiresAt };
}

export function endSession(c: Context<AppEnv>): void {
  deleteCookie(c, SESSION_COOKIE, { prefix: 'host', httpOnly: true, secure: true, sameSite: 'Lax', path: '/' });
}
