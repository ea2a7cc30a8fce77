/**
 * The `jwks` and `jwks_uri` client metadata (RFC 7591 §2) of a `private_key_jwt` client (RFC 7523 §2.2): which key
 * sets may be registered. Pure rules, no I/O; errors are RFC 7591 §3.2.2 invalid_client_metadata.
 */
import type { JSONWebKeySet, JWK } from 'jose';
import { OAuthError } from '../lib/errors';

/** RFC 7518 §6 / RFC 8037 key types that sign with an algorithm of CLIENT_ASSERTION_ALGS. */
const KEY_TYPES = ['EC', 'OKP', 'RSA'] as const;
/**
 * RFC 7517 §§6–7 / RFC 7518 §6 private members. A private key in client metadata is a leaked key: the registration
 * is refused rather than the member dropped, so the client author learns it at once (RFC 7591 §5: metadata is public).
 */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;
/** Bounds on what is stored inline and cached per isolate. */
export const MAX_KEYS = 10;
export const MAX_JWKS_BYTES = 16_384;
const MAX_URI = 2000;

function bad(description: string): OAuthError {
  return new OAuthError('invalid_client_metadata', description);
}

/**
 * Checks a JWK Set as a client's signing keys: an object with 1–MAX_KEYS public EC, OKP or RSA keys, each with a
 * unique `kid` when there are several (so an assertion's `kid` names one). Returns the set as given.
 * `where` names the source in the message ("jwks" at registration, "the jwks_uri document" for a fetched set).
 */
export function validateClientJwks(value: unknown, where = '"jwks"'): JSONWebKeySet {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw bad(`${where} must be a JWK Set: an object with a "keys" array (RFC 7517 §5).`);
  const keys = (value as { keys?: unknown }).keys;
  if (!Array.isArray(keys) || keys.length === 0 || keys.length > MAX_KEYS)
    throw bad(`${where} must hold a "keys" array of 1 to ${MAX_KEYS} public keys.`);
  if (JSON.stringify(value).length > MAX_JWKS_BYTES) throw bad(`${where} is larger than ${MAX_JWKS_BYTES} bytes.`);
  const kids = new Set<string>();
  for (const key of keys as unknown[]) {
    if (typeof key !== 'object' || key === null || Array.isArray(key))
      throw bad(`${where}: every key is a JSON object.`);
    const jwk = key as JWK;
    if (PRIVATE_MEMBERS.some((m) => m in jwk))
      throw bad(
        `${where} must hold public keys only: remove the private key members (such as "d") and rotate that key.`,
      );
    if (!KEY_TYPES.includes(jwk.kty as (typeof KEY_TYPES)[number]))
      throw bad(`${where}: every key's "kty" must be one of ${KEY_TYPES.join(', ')}.`);
    if (jwk.use !== undefined && jwk.use !== 'sig') throw bad(`${where}: a key's "use", when given, must be "sig".`);
    if (keys.length > 1) {
      if (typeof jwk.kid !== 'string' || jwk.kid.length === 0 || kids.has(jwk.kid))
        throw bad(`${where}: with several keys, each needs its own "kid".`);
      kids.add(jwk.kid);
    }
  }
  return value as JSONWebKeySet;
}

/** `jwks_uri`: an https URL without a fragment (RFC 7591 §2), fetched only through src/lib/safe-fetch.ts. */
export function validateJwksUri(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_URI)
    throw bad(`"jwks_uri" must be an https URL of at most ${MAX_URI} characters.`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw bad('"jwks_uri" must be an https URL.');
  }
  if (url.protocol !== 'https:' || url.hash || url.username || url.password)
    throw bad('"jwks_uri" must be an https URL with no fragment and no user information.');
  return value;
}

export interface ClientKeys {
  jwks: JSONWebKeySet | null;
  jwksUri: string | null;
}

/**
 * The key metadata for an auth method: `private_key_jwt` needs exactly one of `jwks` and `jwks_uri` (RFC 7591 §2:
 * "MUST NOT both be present"); any other method may have neither (a secret client has no use for keys, and keys
 * left on it would read as a second way in).
 */
export function validateClientKeys(authMethod: string, jwks: unknown, jwksUri: unknown): ClientKeys {
  const hasJwks = jwks !== undefined && jwks !== null;
  const hasUri = jwksUri !== undefined && jwksUri !== null;
  if (authMethod !== 'private_key_jwt') {
    if (hasJwks || hasUri)
      throw bad('"jwks" and "jwks_uri" are for token_endpoint_auth_method "private_key_jwt" only.');
    return { jwks: null, jwksUri: null };
  }
  if (hasJwks && hasUri) throw bad('Send either "jwks" or "jwks_uri", not both (RFC 7591 §2).');
  if (!hasJwks && !hasUri) throw bad('token_endpoint_auth_method "private_key_jwt" needs "jwks" or "jwks_uri".');
  return hasJwks
    ? { jwks: validateClientJwks(jwks), jwksUri: null }
    : { jwks: null, jwksUri: validateJwksUri(jwksUri) };
}
