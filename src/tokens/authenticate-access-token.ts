/**
 * The one entry point for protected routes: verify the JWT (no storage read), then check the
 * deny-list snapshot (no storage read in steady state). Throws RFC 6750 invalid_token.
 */
import { getConfig } from '../config';
import { bearerError } from '../oauth/errors';
import { isRevokedCached } from '../storage/revocations';
import { getKeyRing } from './keyring';
import { decodeProtectedHeader } from 'jose';
import { MAX_TOKEN_LENGTH, verifiedKid, verifyAccessToken, type AccessTokenClaims } from './verify-access-token';

export async function authenticateAccessToken(env: Env, token: string): Promise<AccessTokenClaims> {
  const claims = await verifyAccessToken(getConfig(env), await getKeyRing(env, { kid: verifiedKid(token) ?? peekKid(token) }), token);
  if (await isRevokedCached(env.DB, claims)) throw bearerError('invalid_token', 'The access token has been revoked.');
  return claims;
}

/** The `kid` of a JWS header, without verifying anything; lets the ring reload once for a key it has not seen. */
export function peekKid(token: string): string | undefined {
  if (token.length > MAX_TOKEN_LENGTH) return undefined;
  try {
    const kid = decodeProtectedHeader(token).kid;
    return typeof kid === 'string' && kid.length <= 64 ? kid : undefined;
  } catch {
    return undefined;
  }
}
