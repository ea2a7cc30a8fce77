/**
 * Signature and claim verification of our access tokens (RFC 9068 §4). Reads no storage: keys come from the
 * in-isolate key ring. It does NOT consult the deny-list: routes and endpoints authenticate a token with
 * `authenticateAccessToken` (./authenticate-access-token.ts), never with this.
 */
import { decodeProtectedHeader, errors, type JWTPayload, jwtVerify } from 'jose';
import type { Config } from '../config';
import { clock } from '../lib/clock';
import { bearerError } from '../lib/errors';
import { type AccessTokenClaims, CLOCK_TOLERANCE } from '../oauth/access-token-claims';
import type { KeyRing, RingKey } from './keyring';

export { type AccessTokenClaims, CLOCK_TOLERANCE, tokenScopes } from '../oauth/access-token-claims';

/** A JWS compact token of ours is ~700 bytes; anything far larger is refused before parsing. */
export const MAX_TOKEN_LENGTH = 4096;
const ALGORITHMS = ['ES256', 'EdDSA'];
/** Headers that would let a token choose its own key: never honoured, always refused (RFC 8725 §3.10). */
const FORBIDDEN_HEADERS = ['jku', 'x5u', 'jwk', 'x5c'];

/**
 * Tokens whose signature and fixed claims (iss, typ, required claims) this isolate has already verified, by
 * exact token text, with the ring key that verified them: the ECDSA verification (and even decoding the header)
 * is most of a bearer check's CPU, and the same token arrives many times. A hit counts only while the current
 * ring still holds that very key object under its kid, so a ring reload that retires or replaces the key
 * verifies nothing from cache; a hit re-runs every time-dependent check (exp, nbf, iat) against the clock, and
 * the deny-list is checked by the caller on every request either way. Bounded, oldest evicted first. Same idea
 * as Envoy's jwt_authn JWT cache.
 */
const verified = new Map<string, { key: RingKey; payload: JWTPayload }>();
/** ~1.5 MB of ~700-byte tokens at most. */
export const VERIFIED_CACHE_SIZE = 2000;

/** The kid of a token this isolate has verified before, without decoding it (the ring lookup needs it). */
export function verifiedKid(token: string): string | undefined {
  return verified.get(token)?.key.kid;
}

/** exp / nbf exactly as jose checks them (lib/jwt_claims_set.js), and iat as we do, for a cache hit. */
function checkTimes(payload: JWTPayload): void {
  const now = Math.floor(clock.now() / 1000);
  if (payload.nbf !== undefined && payload.nbf > now + CLOCK_TOLERANCE)
    throw invalid('The access token is invalid.', 'ERR_JWT_CLAIM_VALIDATION_FAILED');
  if ((payload.exp as number) <= now - CLOCK_TOLERANCE) throw invalid('The access token has expired.');
  if ((payload.iat as number) > clock.now() / 1000 + CLOCK_TOLERANCE)
    throw invalid('The access token was issued in the future.');
}

/**
 * Returns the verified claims or throws an RFC 6750 `invalid_token` error. A revoked token passes: the name says
 * so, and only authenticateAccessToken (and the unit tests of this layer) may call it.
 */
export async function verifyAccessTokenSkippingDenyList(
  config: Config,
  ring: KeyRing,
  token: string,
): Promise<AccessTokenClaims> {
  if (token.length > MAX_TOKEN_LENGTH) throw invalid('The access token is too long.');
  const hit = verified.get(token);
  if (hit && ring.verify.get(hit.key.kid) === hit.key) {
    checkTimes(hit.payload);
    return { ...hit.payload } as AccessTokenClaims;
  }
  if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(token))
    throw invalid('The access token is not a signed JWT.');
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(token);
  } catch {
    throw invalid('The access token header is malformed.');
  }
  if (FORBIDDEN_HEADERS.some((h) => h in header)) throw invalid('The access token header names its own key.');
  const key = typeof header.kid === 'string' ? ring.verify.get(header.kid) : undefined;
  if (!key) throw invalid('The access token was not signed by a key of this server.');
  if (header.alg !== key.alg) throw invalid('The access token algorithm does not match its key.');
  try {
    const { payload } = await jwtVerify(token, key.key, {
      issuer: config.issuer,
      // No audience here: a token of ours may be for any registered resource (RFC 8707, issue 13). Each resource
      // checks its own: the /v1 routes in requireBearer (src/middleware/bearer.ts), a caller of the service
      // binding with its `audience`; introspection and revocation answer for every audience.
      typ: 'at+jwt',
      algorithms: ALGORITHMS,
      clockTolerance: CLOCK_TOLERANCE,
      currentDate: new Date(clock.now()),
      requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat', 'jti', 'client_id', 'scope'],
    });
    if (
      typeof payload.client_id !== 'string' ||
      typeof payload.scope !== 'string' ||
      typeof payload.jti !== 'string' ||
      (payload.fid !== undefined && typeof payload.fid !== 'string')
    ) {
      throw invalid('The access token claims are malformed.');
    }
    if ((payload.iat as number) > clock.now() / 1000 + CLOCK_TOLERANCE)
      throw invalid('The access token was issued in the future.');
    verified.delete(token); // a stale entry (another key object) is replaced, and moves to the young end
    if (verified.size >= VERIFIED_CACHE_SIZE) verified.delete(verified.keys().next().value!);
    verified.set(token, { key, payload });
    return { ...payload } as AccessTokenClaims;
  } catch (err) {
    if (err instanceof errors.JWTExpired) throw invalid('The access token has expired.');
    if (err instanceof errors.JOSEError) throw invalid('The access token is invalid.', err.code);
    throw err;
  }
}

function invalid(description: string, reason?: string) {
  return bearerError('invalid_token', description, { reason });
}
