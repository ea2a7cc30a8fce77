/**
 * Password hashing: PBKDF2-SHA256 through WebCrypto, in a versioned format
 * "pbkdf2-sha256$<iterations>$<salt b64url>$<hash b64url>" so the cost can be raised later.
 * 100,000 iterations is the most the Workers runtime allows.
 */
import { base64url } from 'jose';

export const PBKDF2_ITERATIONS = 100_000;
const PREFIX = 'pbkdf2-sha256';

async function derive(password: string, salt: Uint8Array, iterations: number): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey('raw', new TextEncoder().encode(password), 'PBKDF2', false, ['deriveBits']);
  const bits = await crypto.subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt, iterations }, key, 256);
  return new Uint8Array(bits);
}

export async function hashPassword(password: string, iterations = PBKDF2_ITERATIONS): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const hash = await derive(password, salt, iterations);
  return `${PREFIX}$${iterations}$${base64url.encode(salt)}$${base64url.encode(hash)}`;
}

/** A well-formed hash of a random password: verifying against it costs the same as a real check. */
export const DUMMY_PASSWORD_HASH = `${PREFIX}$${PBKDF2_ITERATIONS}$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA`;

/** Constant-time verification; a malformed stored hash never matches. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [prefix, iter, saltB64, hashB64] = stored.split('$');
  const iterations = Number(iter);
  if (prefix !== PREFIX || !Number.isInteger(iterations) || iterations < 1 || iterations > PBKDF2_ITERATIONS)
    return false;
  let salt: Uint8Array;
  let expected: Uint8Array;
  try {
    salt = base64url.decode(saltB64);
    expected = base64url.decode(hashB64);
  } catch {
    return false;
  }
  const actual = await derive(password, salt, iterations);
  return actual.length === expected.length && crypto.subtle.timingSafeEqual(actual, expected);
}
