/**
 * The one entry point for protected routes: verify the JWT (no storage read), then check the
 * deny-list snapshot (no storage read in steady state). Throws RFC 6750 invalid_token.
 */
import { getConfig } from '../config';
import { bearerError } from '../oauth/errors';
import { isRevokedCached } from '../storage/revocations';
import { getKeyRing } from './keyring';
import { verifyAccessToken, type AccessTokenClaims } from './verify-access-token';

export async function authenticateAccessToken(env: Env, token: string): Promise<AccessTokenClaims> {
  const claims = await verifyAccessToken(getConfig(env), await getKeyRing(env), token);
  if (await isRevokedCached(env.DB, claims)) throw bearerError('invalid_token', 'The access token has been revoked.');
  return claims;
}
