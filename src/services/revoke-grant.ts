/**
 * Revoking a grant (RFC 7009 §2.1: "If the particular token is a refresh token and the authorization server supports
 * the revocation of access tokens, then the authorization server SHOULD also invalidate all access tokens based on the
 * same authorization grant"). One D1 batch: the family's fid on the deny-list first, then its refresh tokens, then the
 * audit row; so the grant's access tokens stop working within the snapshot bound (introspection at once).
 */
import { getConfig } from '../config';
import { type AuditFields, auditStatement } from '../storage/audit';
import { revokeFamilyStatement } from '../storage/refresh-tokens';
import { familyDenyUntil, revocationsChanged, revokeStatement } from '../storage/revocations';

/** Revokes a refresh-token family and every access token issued from it. */
export async function revokeGrant(env: Env, familyId: string, audit: AuditFields): Promise<void> {
  const db = env.DB;
  await db.batch([
    revokeStatement(db, 'family', familyId, familyDenyUntil(getConfig(env).accessTokenTtl)),
    revokeFamilyStatement(db, familyId),
    auditStatement(db, 'token_revoked', audit),
  ]);
  await revocationsChanged(env.CACHE); // this isolate refuses the family's access tokens at once
}

/**
 * Revokes one access token (RFC 7009 §2.1): its jti on the deny-list until it expires, with its audit row in the same
 * batch (issue 16: the two ran side by side, so a failed deny-list write left an audit row for a revocation that did
 * not happen, and a failed audit write an unaudited one).
 */
export async function revokeAccessToken(
  env: Env,
  token: { jti: string; exp: number },
  audit: AuditFields,
): Promise<void> {
  const db = env.DB;
  await db.batch([revokeStatement(db, 'jti', token.jti, token.exp), auditStatement(db, 'token_revoked', audit)]);
  await revocationsChanged(env.CACHE); // this isolate refuses the token at once
}
