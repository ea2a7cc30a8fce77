/**
 * The refresh grant under a client's `reuse` policy (issue 11, migrations/0008): the presented refresh token is
 * checked and returned unchanged (RFC 6749 §6: a new refresh token is optional), so it stays valid until its
 * absolute expiry or revocation. One D1 batch, like rotation (src/storage/refresh-tokens.ts):
 * 1. a token that was rotated away earlier (used_at set, e.g. before the client was switched from `rotate`) is still
 *    a replay: its whole family is revoked, exactly as under rotation (RFC 9700 §4.14.2),
 * 2. and the family's access tokens are deny-listed until `familyDenyUntil` (issue 10 item 4, as in rotation);
 * 3. the row is read back with its user's status, and judged here.
 * Nothing is written for a valid token, so there is no single-use state to race on: read-then-decide is safe.
 */
import { nowSeconds } from '../lib/clock';
import { sha256 } from '../lib/random';
import {
  type Narrowing,
  narrowingRefusal,
  type RefreshFamilyRecord,
  type RotationResult,
  resourcesOfRow,
} from './refresh-tokens';
import { revokeFamiliesStatement } from './revocations';

interface ReuseRow {
  family_id: string;
  client_id: string;
  user_id: string | null;
  scope: string;
  scope_mask: number;
  used_at: number | null;
  revoked_at: number | null;
  expires_at: number;
  resources: string | null;
  user_status: 'active' | 'disabled' | null;
}

/** Checks `presented` for `clientId` without rotating it; on success the same token is handed back. */
export async function reuseRefreshToken(
  db: D1Database,
  presented: string,
  clientId: string,
  requestedMask: number,
  familyDenyUntil: number,
  narrowing: Narrowing,
): Promise<RotationResult> {
  const hash = await sha256(presented);
  const now = nowSeconds();
  const [, , read] = await db.batch([
    db
      .prepare(
        `UPDATE refresh_tokens SET revoked_at = ?2
          WHERE revoked_at IS NULL AND family_id = (
            SELECT family_id FROM refresh_tokens WHERE hash = ?1 AND client_id = ?3 AND used_at IS NOT NULL)`,
      )
      .bind(hash, now, clientId),
    revokeFamiliesStatement(
      db,
      'SELECT family_id AS fid FROM refresh_tokens WHERE hash = ?3 AND client_id = ?4 AND used_at IS NOT NULL',
      familyDenyUntil,
      hash,
      clientId,
    ),
    db
      .prepare(
        `SELECT r.family_id, r.client_id, r.user_id, r.scope, r.scope_mask, r.used_at, r.revoked_at, r.expires_at, r.resources, u.status AS user_status
           FROM refresh_tokens r LEFT JOIN users u ON u.id = r.user_id WHERE r.hash = ?1`,
      )
      .bind(hash),
  ]);
  const row = read.results[0] as ReuseRow | undefined;
  if (!row) return { ok: false, reason: 'unknown' };
  if (row.client_id !== clientId) return { ok: false, reason: 'wrong_client' };
  const record: RefreshFamilyRecord = {
    familyId: row.family_id,
    clientId: row.client_id,
    userId: row.user_id,
    scope: row.scope,
    expiresAt: row.expires_at,
    resources: resourcesOfRow(row.resources),
  };
  if (row.used_at !== null) return { ok: false, reason: 'reused', record };
  if (row.revoked_at !== null) return { ok: false, reason: 'revoked', record };
  if (row.expires_at <= now) return { ok: false, reason: 'expired', record };
  if ((row.scope_mask & requestedMask) !== requestedMask) return { ok: false, reason: 'scope_widened', record };
  const narrowed = narrowingRefusal(row, narrowing);
  if (narrowed) return { ok: false, reason: narrowed, record };
  if (row.user_id !== null && row.user_status !== 'active') return { ok: false, reason: 'user_inactive', record };
  return { ok: true, token: presented, record };
}
