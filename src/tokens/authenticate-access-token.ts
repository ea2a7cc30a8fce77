/**
 * The one public way to authenticate an access token, used by the bearer middleware (every protected route),
 * introspection and revocation: verify the JWT (no storage read), then check the deny-list. Throws RFC 6750
 * invalid_token.
 */

import { decodeProtectedHeader } from 'jose';
import { getConfig } from '../config';
import { bearerError } from '../lib/errors';
import { isRevokedCached, isRevokedNow, REVOCATIONS_COPY_KEY, snapshotWantsCopy } from '../storage/revocations';
import { KEY_RING_COPY_KEY } from '../storage/signing-keys';
import { readStampedCopies } from '../storage/stamped-copy';
import { getKeyRing, keyRingWantsCopy } from './keyring';
import {
  type AccessTokenClaims,
  MAX_TOKEN_LENGTH,
  verifiedKid,
  verifyAccessTokenSkippingDenyList,
} from './verify-access-token';

/**
 * How the deny-list is read: `snapshot`, the in-isolate copy (no storage read in steady state, a revocation is
 * seen within SNAPSHOT_SECONDS), for resource routes; `now`, D1 at once (introspection: RFC 7662 §2.2 reports a
 * revoked token inactive immediately).
 */
export type RevocationCheck = 'snapshot' | 'now';

export async function authenticateAccessToken(
  env: Env,
  token: string,
  revocation: RevocationCheck = 'snapshot',
): Promise<AccessTokenClaims> {
  // A cold isolate needs the ring and the deny-list: their KV copies come in one bulk read (issue 17), not two.
  const copies =
    revocation === 'snapshot' && keyRingWantsCopy(env) && snapshotWantsCopy()
      ? await readStampedCopies(env.CACHE, [KEY_RING_COPY_KEY, REVOCATIONS_COPY_KEY])
      : null;
  const claims = await verifyAccessTokenSkippingDenyList(
    getConfig(env),
    await getKeyRing(env, { kid: verifiedKid(token) ?? peekKid(token), prefetched: copies?.get(KEY_RING_COPY_KEY) }),
    token,
  );
  const revoked =
    revocation === 'now'
      ? await isRevokedNow(env.DB, claims)
      : await isRevokedCached(env.DB, env.CACHE, claims, copies?.get(REVOCATIONS_COPY_KEY));
  if (revoked) throw bearerError('invalid_token', 'The access token has been revoked.');
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
