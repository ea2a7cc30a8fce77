/**
 * Refresh tokens in D1 (RFC 6749 §6, RFC 9700 §4.14.2): stored as SHA-256 hashes, grouped in families.
 * Rotation is one D1 batch (one transaction): single use is enforced by `UPDATE … WHERE used_at IS NULL`,
 * never by read-then-write, so concurrent uses of one token give exactly one success.
 */
import { nowSeconds } from '../lib/clock';
import { randomId, randomToken, sha256 } from '../lib/random';
import { revokeFamiliesStatement } from './revocations';

export interface RefreshFamilyRecord {
  familyId: string;
  clientId: string;
  userId: string | null;
  scope: string;
  expiresAt: number;
  /** Issue 13: the canonical resource URIs granted; null for a family from before migration 0009 (default audience). */
  resources: string[] | null;
}

/**
 * What a refresh request narrows to, checked inside the rotating statement so a refused request consumes nothing:
 * `scopes` must all be in the family's scope (by name: another resource server's scopes have no mask bit), and
 * `resources` (canonical URIs, RFC 8707 §2) all among the family's, where NULL means `[defaultResource]`.
 */
export interface Narrowing {
  scopes: readonly string[];
  resources: readonly string[];
  defaultResource: string;
}

/** SQL condition on `refresh_tokens` for a Narrowing bound at ?N (scopes), ?N+1 (resources), ?N+2 (default). */
export function narrowingSql(n: number): string {
  return `NOT EXISTS (SELECT 1 FROM json_each(?${n}) r WHERE instr(' ' || refresh_tokens.scope || ' ', ' ' || r.value || ' ') = 0)
            AND NOT EXISTS (SELECT 1 FROM json_each(?${n + 1}) q
              WHERE q.value NOT IN (SELECT value FROM json_each(COALESCE(refresh_tokens.resources, json_array(?${n + 2})))))`;
}

export function narrowingParams(n: Narrowing): unknown[] {
  return [JSON.stringify(n.scopes), JSON.stringify(n.resources), n.defaultResource];
}

/** Why a family does not cover a Narrowing, judged on the row read back (same rule as narrowingSql). */
export function narrowingRefusal(
  row: { scope: string; resources: string | null },
  n: Narrowing,
): 'scope_widened' | 'target_not_granted' | null {
  const held = row.scope.split(' ');
  if (n.scopes.some((s) => !held.includes(s))) return 'scope_widened';
  const granted = row.resources ? (JSON.parse(row.resources) as string[]) : [n.defaultResource];
  if (n.resources.some((r) => !granted.includes(r))) return 'target_not_granted';
  return null;
}

export function resourcesOfRow(resources: string | null): string[] | null {
  return resources ? (JSON.parse(resources) as string[]) : null;
}

export interface NewRefreshToken {
  token: string;
  statement: D1PreparedStatement;
  familyId: string;
}

/** Prepares the insert of the first token of a new family (to be batched by the caller). */
export async function newRefreshFamily(
  db: D1Database,
  input: {
    clientId: string;
    userId: string | null;
    scope: string;
    scopeMask: number;
    ttlSeconds: number;
    familyId?: string;
    /** Issue 13: the canonical URIs granted (RFC 8707); absent = the default audience (stored as NULL). */
    resources?: readonly string[];
  },
): Promise<NewRefreshToken> {
  const token = randomToken(32);
  const now = nowSeconds();
  const familyId = input.familyId ?? randomId('rtf', 16);
  const statement = db
    .prepare(
      `INSERT INTO refresh_tokens (hash, family_id, client_id, user_id, scope, scope_mask, created_at, expires_at, resources)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)`,
    )
    .bind(
      await sha256(token),
      familyId,
      input.clientId,
      input.userId,
      input.scope,
      input.scopeMask,
      now,
      now + input.ttlSeconds,
      input.resources ? JSON.stringify(input.resources) : null,
    );
  return { token, statement, familyId };
}

export type RotationResult =
  | {
      ok: true;
      token: string;
      record: RefreshFamilyRecord;
      /** A lost-reply retry within the grace window superseded an unused successor (rotateRefreshToken step 2). */
      retried?: boolean;
    }
  | {
      ok: false;
      reason:
        | 'unknown'
        | 'wrong_client'
        | 'reused'
        | 'revoked'
        | 'expired'
        | 'scope_widened'
        | 'target_not_granted'
        | 'user_inactive'
        | 'unexplained';
      record?: RefreshFamilyRecord;
    };

interface TokenRow {
  family_id: string;
  client_id: string;
  user_id: string | null;
  scope: string;
  scope_mask: number;
  used_at: number | null;
  replaced_by: string | null;
  revoked_at: number | null;
  expires_at: number;
  resources: string | null;
  /** 1 when the token has no user or its user is active (the rotation's last condition), read back explicitly. */
  user_active?: number;
}

/**
 * Rotates `presented` for `clientId` in one batch:
 * 1. marks it used, only if it is unused, unrevoked, unexpired, the client's, covers `requestedMask` and its user is active;
 * 2. the lost-reply retry (issue 16, RFC 9700 §4.14.2, docs/reliability.md): if it was rotated less than
 *    `graceSeconds` ago and its successor was never used, that successor is superseded (marked used, revoked, and
 *    `replaced_by` = the new hash, the marker step 3 looks for) and
 * 3. the parent points at the new successor instead (its `used_at` stays, so retries never stretch the window);
 *    the batch is one transaction, so of two simultaneous retries the second supersedes the first's successor:
 *    never two live successors;
 * 4. inserts its successor (same family, scope and absolute expiry) only if step 1 or 3 matched;
 * 5. if it had already been used by an earlier request (and step 3 did not apply), revokes the whole family (reuse
 *    detection); a superseded successor counts as used, so presenting it later is reuse too
 * 6. and deny-lists the family's fid until `familyDenyUntil`, so its access tokens stop working too (issue 10 item 4);
 * 7. reads the row back to tell the caller what happened.
 */
export async function rotateRefreshToken(
  db: D1Database,
  presented: string,
  clientId: string,
  requestedMask: number,
  familyDenyUntil: number,
  narrowing: Narrowing,
  graceSeconds = 0,
): Promise<RotationResult> {
  const hash = await sha256(presented);
  const next = randomToken(32);
  const nextHash = await sha256(next);
  const now = nowSeconds();
  const results = await db.batch([
    db
      .prepare(
        `UPDATE refresh_tokens SET used_at = ?2, replaced_by = ?3
          WHERE hash = ?1 AND client_id = ?4 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > ?2
            AND (scope_mask & ?5) = ?5
            AND ${narrowingSql(6)}
            AND (user_id IS NULL OR EXISTS (SELECT 1 FROM users u WHERE u.id = refresh_tokens.user_id AND u.status = 'active'))`,
      )
      .bind(hash, now, nextHash, clientId, requestedMask, ...narrowingParams(narrowing)),
    // Step 2. The outer table is aliased, so `refresh_tokens` in the subquery (and in narrowingSql) is the parent.
    // With graceSeconds 0, `used_at > now` never holds: no retry is ever accepted.
    db
      .prepare(
        `UPDATE refresh_tokens AS s SET used_at = ?2, revoked_at = ?2, replaced_by = ?3
          WHERE s.used_at IS NULL AND s.revoked_at IS NULL AND s.hash = (
            SELECT replaced_by FROM refresh_tokens
             WHERE hash = ?1 AND client_id = ?4 AND used_at IS NOT NULL AND used_at > ?2 - ?9
               AND replaced_by <> ?3 AND revoked_at IS NULL AND expires_at > ?2
               AND (scope_mask & ?5) = ?5
               AND ${narrowingSql(6)}
               AND (user_id IS NULL OR EXISTS (SELECT 1 FROM users u WHERE u.id = refresh_tokens.user_id AND u.status = 'active')))`,
      )
      .bind(hash, now, nextHash, clientId, requestedMask, ...narrowingParams(narrowing), graceSeconds),
    // Step 3: only where step 2 superseded this parent's successor (its marker names the new hash).
    db
      .prepare(
        `UPDATE refresh_tokens SET replaced_by = ?2
          WHERE hash = ?1 AND EXISTS (SELECT 1 FROM refresh_tokens s WHERE s.hash = refresh_tokens.replaced_by AND s.replaced_by = ?2)`,
      )
      .bind(hash, nextHash),
    db
      .prepare(
        `INSERT INTO refresh_tokens (hash, family_id, client_id, user_id, scope, scope_mask, created_at, expires_at, resources)
         SELECT ?3, family_id, client_id, user_id, scope, scope_mask, ?2, expires_at, resources
           FROM refresh_tokens WHERE hash = ?1 AND replaced_by = ?3`,
      )
      .bind(hash, now, nextHash),
    db
      .prepare(
        `UPDATE refresh_tokens SET revoked_at = ?2
          WHERE revoked_at IS NULL AND family_id = (
            SELECT family_id FROM refresh_tokens WHERE hash = ?1 AND client_id = ?4 AND used_at IS NOT NULL AND replaced_by <> ?3)`,
      )
      .bind(hash, now, nextHash, clientId),
    revokeFamiliesStatement(
      db,
      'SELECT family_id AS fid FROM refresh_tokens WHERE hash = ?3 AND client_id = ?4 AND used_at IS NOT NULL AND replaced_by <> ?5',
      familyDenyUntil,
      hash,
      clientId,
      nextHash,
    ),
    db
      .prepare(
        `SELECT family_id, client_id, user_id, scope, scope_mask, used_at, replaced_by, revoked_at, expires_at, resources,
                (user_id IS NULL OR EXISTS (SELECT 1 FROM users u WHERE u.id = refresh_tokens.user_id AND u.status = 'active')) AS user_active
           FROM refresh_tokens WHERE hash = ?1`,
      )
      .bind(hash),
  ]);
  const row = results[6].results[0] as TokenRow | undefined;
  if (!row) return { ok: false, reason: 'unknown' };
  const record: RefreshFamilyRecord = {
    familyId: row.family_id,
    clientId: row.client_id,
    userId: row.user_id,
    scope: row.scope,
    expiresAt: row.expires_at,
    resources: resourcesOfRow(row.resources),
  };
  if (row.replaced_by === nextHash) return { ok: true, token: next, record, retried: results[2].meta.changes === 1 };
  if (row.client_id !== clientId) return { ok: false, reason: 'wrong_client' };
  if (row.used_at !== null) return { ok: false, reason: 'reused', record };
  if (row.revoked_at !== null) return { ok: false, reason: 'revoked', record };
  if (row.expires_at <= now) return { ok: false, reason: 'expired', record };
  if ((row.scope_mask & requestedMask) !== requestedMask) return { ok: false, reason: 'scope_widened', record };
  const narrowed = narrowingRefusal(row, narrowing);
  if (narrowed) return { ok: false, reason: narrowed, record };
  if (row.user_active === 0) return { ok: false, reason: 'user_inactive', record };
  // Every condition of the UPDATE held, yet it did not rotate: never guess which one (issue 12), say so.
  return { ok: false, reason: 'unexplained', record };
}

/** Revokes every token of a family (RFC 7009 §2.1: revoking a refresh token revokes its grant). */
export function revokeFamilyStatement(db: D1Database, familyId: string): D1PreparedStatement {
  return db
    .prepare('UPDATE refresh_tokens SET revoked_at = ?2 WHERE family_id = ?1 AND revoked_at IS NULL')
    .bind(familyId, nowSeconds());
}

/** Revokes every refresh token a user gave a client (consent withdrawn). */
export function revokeUserClientRefreshStatement(
  db: D1Database,
  userId: string,
  clientId: string,
): D1PreparedStatement {
  return db
    .prepare('UPDATE refresh_tokens SET revoked_at = ?3 WHERE user_id = ?1 AND client_id = ?2 AND revoked_at IS NULL')
    .bind(userId, clientId, nowSeconds());
}
