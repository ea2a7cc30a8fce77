/** PKCE (RFC 7636), S256 only: `plain` gives no protection when the request can be read (RFC 9700 §2.1.1). */
import { sha256 } from '../lib/random';

/** RFC 7636 §4.1 / §4.2: 43–128 unreserved characters. An S256 challenge is exactly 43 base64url characters. */
const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;
const S256_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

export function isValidVerifier(verifier: string): boolean {
  return VERIFIER.test(verifier);
}

export function isValidS256Challenge(challenge: string): boolean {
  return S256_CHALLENGE.test(challenge);
}

/** RFC 7636 §4.6: BASE64URL(SHA256(ASCII(code_verifier))). */
export function s256(verifier: string): Promise<string> {
  return sha256(verifier);
}
