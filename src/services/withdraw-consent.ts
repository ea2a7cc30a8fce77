/**
 * A user withdraws the consent given to a client (portal). One D1 batch: the grants that consent produced are
 * deny-listed by fid first (their access tokens stop working within the snapshot bound; issue 10 item 4), then the
 * consent is deleted, the refresh tokens revoked and the audit row written. Nothing is left half done.
 */
import { getConfig } from '../config';
import { nowSeconds } from '../lib/clock';
import { auditStatement } from '../storage/audit';
import { deleteConsentStatement } from '../storage/consents';
import { revokeUserClientRefreshStatement } from '../storage/refresh-tokens';
import { familyDenyUntil, revocationsChanged, revokeFamiliesStatement } from '../storage/revocations';
import { CLOCK_TOLERANCE } from '../tokens/verify-access-token';

/**
 * The grants of a user and client whose access tokens may still be alive: a refresh row is written with each access
 * token it comes with (first issue and every rotation) and a code redemption records its grant, so a grant none of whose
 * rows is younger than one access-token lifetime has no live access token (and needs no deny-list row).
 */
const LIVE_GRANTS = `SELECT family_id AS fid FROM refresh_tokens WHERE user_id = ?3 AND client_id = ?4 AND created_at >= ?5
  UNION SELECT issued_family_id FROM authorization_codes WHERE user_id = ?3 AND client_id = ?4 AND used_at >= ?5`;

/** Returns whether a consent existed. */
export async function withdrawConsent(
  env: Env,
  userId: string,
  clientId: string,
  requestId?: string,
): Promise<boolean> {
  const db = env.DB;
  const ttl = getConfig(env).accessTokenTtl;
  const since = nowSeconds() - ttl - CLOCK_TOLERANCE;
  const [, del] = await db.batch([
    revokeFamiliesStatement(db, LIVE_GRANTS, familyDenyUntil(ttl), userId, clientId, since),
    deleteConsentStatement(db, userId, clientId),
    revokeUserClientRefreshStatement(db, userId, clientId),
    auditStatement(db, 'consent_revoked', { actor: userId, subject: clientId, requestId }),
  ]);
  await revocationsChanged(env.CACHE);
  return (del.meta.changes ?? 0) > 0;
}
