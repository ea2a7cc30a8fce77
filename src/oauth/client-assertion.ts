/**
 * The rules a client assertion (RFC 7523 §2.2 client authentication, `private_key_jwt` of OIDC Core §9) is held to,
 * apart from its signature. Pure, no I/O: src/services/private-key-jwt.ts verifies the signature with jose and then
 * applies these.
 */
import type { JWTPayload } from 'jose';
import { CLOCK_TOLERANCE } from './access-token-claims';

/** RFC 7523 §2.2: the only client_assertion_type there is. */
export const JWT_BEARER_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/**
 * Asymmetric algorithms only: never `none` (RFC 7518 §3.6) nor HS* (a client secret as key, `client_secret_jwt`,
 * which would need the secret stored in the clear). Published as token_endpoint_auth_signing_alg_values_supported.
 */
export const CLIENT_ASSERTION_ALGS = ['ES256', 'EdDSA', 'RS256', 'PS256'] as const;

/**
 * The longest life an assertion may claim (exp − iat, or exp − now without iat). RFC 7523 §3 item 4 lets the server
 * refuse a far-off exp; a short one bounds both the replay record (src/storage/assertion-jtis.ts) and the damage of
 * an assertion that leaks. Clients mint one per request (oauth4webapi: 60 s) so five minutes is generous.
 */
export const MAX_ASSERTION_LIFETIME_SECONDS = 300;

/** Assertions longer than this are refused before parsing (a signed JWT of our algorithms is well under 2 KB). */
export const MAX_ASSERTION_LENGTH = 8192;

/** The `aud` values that name us, and how the check reads them. */
export interface AssertionAudience {
  /** Our issuer identifier (RFC 8414 §2). */
  issuer: string;
  /** Our token endpoint URL as published in the metadata. */
  tokenEndpoint: string;
}

/**
 * RFC 7523 §3 item 3 and draft-ietf-oauth-rfc7523bis §4: the audience is our issuer identifier; the token endpoint
 * URL is still accepted, because RFC 7523 §3 and OIDC Core §9 told clients to use it and most still do. Not the URL
 * of the revocation or introspection endpoint being called: rfc7523bis removes endpoint-specific audiences (they
 * are what let an assertion meant for one server be replayed at another that shares the endpoint URL pattern).
 * `aud` is one string or an array of exactly one (rfc7523bis: a single audience value; several audiences are how an
 * assertion made for another server would also name us).
 */
export function audienceMatches(aud: JWTPayload['aud'], expected: AssertionAudience): boolean {
  const value = Array.isArray(aud) ? (aud.length === 1 ? aud[0] : undefined) : aud;
  return value === expected.issuer || value === expected.tokenEndpoint;
}

/** Why an assertion's claims are refused, for the log; the wire gets one sentence per family (see docs). */
export type ClaimProblem =
  | 'iss_sub'
  | 'audience'
  | 'exp_missing'
  | 'expired'
  | 'not_yet_valid'
  | 'too_long_lived'
  | 'jti_missing';

/**
 * RFC 7523 §3: iss = sub = client id (items 1, 2), our audience (3), exp present and not passed (4), nbf and iat not
 * in the future (5, 6), a jti to enforce single use (7, required here). Lifetime at most MAX_ASSERTION_LIFETIME_SECONDS.
 * `now` in seconds; clock skew CLOCK_TOLERANCE either way, as for our own tokens.
 */
export function checkAssertionClaims(
  claims: JWTPayload,
  clientId: string,
  audience: AssertionAudience,
  now: number,
): ClaimProblem | null {
  if (claims.iss !== clientId || claims.sub !== clientId) return 'iss_sub';
  if (!audienceMatches(claims.aud, audience)) return 'audience';
  if (typeof claims.exp !== 'number' || !Number.isFinite(claims.exp)) return 'exp_missing';
  if (claims.exp + CLOCK_TOLERANCE <= now) return 'expired';
  if (claims.nbf !== undefined && (typeof claims.nbf !== 'number' || claims.nbf - CLOCK_TOLERANCE > now))
    return 'not_yet_valid';
  if (claims.iat !== undefined && (typeof claims.iat !== 'number' || claims.iat - CLOCK_TOLERANCE > now))
    return 'not_yet_valid';
  const from = typeof claims.iat === 'number' ? Math.min(claims.iat, now) : now;
  if (claims.exp - from > MAX_ASSERTION_LIFETIME_SECONDS + CLOCK_TOLERANCE) return 'too_long_lived';
  if (typeof claims.jti !== 'string' || claims.jti.length === 0 || claims.jti.length > 256) return 'jti_missing';
  return null;
}

/** Our audience values for an issuer: the issuer and the token endpoint of src/routes/well-known.ts. */
export function assertionAudience(issuer: string): AssertionAudience {
  return { issuer, tokenEndpoint: `${issuer}/oauth2/token` };
}
