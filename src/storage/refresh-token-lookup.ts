/** Read-only lookup of a refresh token by its hash, for revocation and introspection (RFC 7009, RFC 7662). */
import { sha256 } from '../lib/random';

export interface RefreshTokenState {
  familyId: string;
  clientId: string;
  userId: string | null;
  scope: string;
  createdAt: number;
  expiresAt: number;
  usedAt: number | null;
  revokedAt: number | null;
  /** Null when the token has no user (or the user row is gone). */
  userStatus: 'active' | 'disabled' | null;
}

/** One D1 read: the token's row and its user's status. Null for an unknown token. */
export async function findRefreshToken(db: D1Database, token: string): Promise<RefreshTokenState | null> {
  if (token.length > 512) return null;
  const row = await db
    .prepare(
      `SELECT r.family_id, r.client_id, r.user_id, r.scope, r.created_at, r.expires_at, r.used_at, r.revoked_at, u.status AS user_status
         FROM refresh_tokens r LEFT JOIN users u ON u.id = r.user_id WHERE r.hash = ?1`,
    )
    .bind(await sha256(token))
    .first<Record<string, unknown>>();
  if (!row) return null;
  return {
    familyId: row.family_id as string,
    clientId: row.client_id as string,
    userId: (row.user_id as string | null) ?? null,
    scope: row.scope as string,
    createdAt: row.created_at as number,
    expiresAt: row.expires_at as number,
    usedAt: (row.used_at as number | null) ?? null,
    revokedAt: (row.revoked_at as number | null) ?? null,
    userStatus: (row.user_status as 'active' | 'disabled' | null) ?? null,
  };
}

/** Whether a refresh token can still be exchanged (RFC 7662 §2.2 "active"). */
export function isRefreshActive(t: RefreshTokenState, now: number): boolean {
  return (
    t.usedAt === null && t.revokedAt === null && t.expiresAt > now && (t.userId === null || t.userStatus === 'active')
  );
}
