/** Random opaque values and their storage hashes. Only hashes are ever written to storage. */
import { base64url } from 'jose';

/** `bytes` random bytes (default 32 = 256 bits, RFC 9700 §4.14), base64url-encoded. */
export function randomToken(bytes = 32): string {
  return base64url.encode(crypto.getRandomValues(new Uint8Array(bytes)));
}

/** A short random identifier with a readable prefix, e.g. `usr_…`. */
export function randomId(prefix: string, bytes = 12): string {
  return `${prefix}_${base64url.encode(crypto.getRandomValues(new Uint8Array(bytes)))}`;
}

/**
 * SHA-256 of a high-entropy secret (client secret, refresh token, code), base64url. A fast hash is
 * right here: 256 random bits cannot be guessed offline. Low-entropy passwords use password.ts.
 */
export async function sha256(value: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(value));
  return base64url.encode(new Uint8Array(digest));
}

/** Constant-time equality of two strings (compares their SHA-256 digests, so lengths do not leak). */
export async function timingSafeEqualStrings(a: string, b: string): Promise<boolean> {
  const enc = new TextEncoder();
  const [da, db] = await Promise.all([
    crypto.subtle.digest('SHA-256', enc.encode(a)),
    crypto.subtle.digest('SHA-256', enc.encode(b)),
  ]);
  return crypto.subtle.timingSafeEqual(da, db);
}
