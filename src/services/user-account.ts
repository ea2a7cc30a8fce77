/**
 * Operations on a user account (admin API): creation, a profile edit, a password reset and a status change, each one D1
 * batch with everything it implies and its audit row, so none is ever half done or unaudited:
 * - a password reset ends every session of the user (ASVS V3.3.3: a copied cookie must not outlive the reset);
 * - disabling deny-lists the user's access tokens first (kind 'user'), revokes their refresh tokens and ends every
 *   session; enabling again brings none of these back.
 */
import { getConfig } from '../config';
import { nowSeconds } from '../lib/clock';
import { hashPassword } from '../lib/password';
import type { UserProfile } from '../oauth/user-profile';
import { auditStatement, auditStatementIf } from '../storage/audit';
import { revocationsChanged, revokeTokensOfStatement } from '../storage/revocations';
import { deleteUserSessionsStatement } from '../storage/sessions';
import { invalidateUserSummary } from '../storage/user-summaries';
import { newUserStatement, type User, updateUserProfileStatement, userFromRow } from '../storage/users';

/** Creates an active user with its audit row in one batch (issue 16: never a user the audit log does not show). */
export async function createUserAudited(env: Env, email: string, password: string, requestId?: string): Promise<User> {
  const db = env.DB;
  const { user, statement } = await newUserStatement(db, email, password);
  await db.batch([statement, auditStatement(db, 'user_created', { actor: 'admin', subject: user.id, requestId })]);
  return user;
}

/** Sets a new password and ends every session; returns whether the user exists. */
export async function resetUserPassword(
  env: Env,
  userId: string,
  password: string,
  requestId?: string,
): Promise<boolean> {
  const db = env.DB;
  const [res] = await db.batch([
    db
      .prepare('UPDATE users SET password_hash = ?2, updated_at = ?3 WHERE id = ?1')
      .bind(userId, await hashPassword(password), nowSeconds()),
    deleteUserSessionsStatement(db, userId),
    auditStatement(db, 'user_updated', {
      actor: 'admin',
      subject: userId,
      detail: { password_reset: true, sessions_ended: true },
      requestId,
    }),
  ]);
  return (res.meta.changes ?? 0) > 0;
}

/** Enables or disables a user; returns the updated user, or null when there is none. */
export async function setUserStatus(
  env: Env,
  userId: string,
  status: 'active' | 'disabled',
  requestId?: string,
): Promise<User | null> {
  const db = env.DB;
  const now = nowSeconds();
  const stmts: D1PreparedStatement[] = [];
  if (status === 'disabled') stmts.push(revokeTokensOfStatement(db, 'user', userId, getConfig(env).accessTokenTtl));
  const update =
    stmts.push(
      db.prepare('UPDATE users SET status = ?2, updated_at = ?3 WHERE id = ?1 RETURNING *').bind(userId, status, now),
    ) - 1;
  if (status === 'disabled') {
    stmts.push(
      db
        .prepare('UPDATE refresh_tokens SET revoked_at = ?2 WHERE user_id = ?1 AND revoked_at IS NULL')
        .bind(userId, now),
      deleteUserSessionsStatement(db, userId),
    );
  }
  stmts.push(auditStatement(db, 'user_updated', { actor: 'admin', subject: userId, detail: { status }, requestId }));
  const results = await db.batch(stmts);
  await revocationsChanged(env.CACHE);
  // After the batch: a failing KV delete answers 503 with the change made; the retry (same status) drops it again.
  await invalidateUserSummary(env.CACHE, userId);
  return userFromRow(results[update].results[0]);
}

/**
 * Edits the user's OpenID Connect profile claims (Core §5.1), with its audit row in the same batch, written only when
 * the user still exists (issue 16: audit() after the UPDATE only logged a failure, leaving an unaudited change).
 */
export async function updateUserProfileAudited(
  env: Env,
  userId: string,
  changes: Partial<UserProfile>,
  requestId?: string,
): Promise<User | null> {
  const db = env.DB;
  const [update] = await db.batch([
    updateUserProfileStatement(db, userId, changes),
    auditStatementIf(
      db,
      'user_updated',
      { actor: 'admin', subject: userId, detail: { profile: Object.keys(changes) }, requestId },
      { sql: 'EXISTS (SELECT 1 FROM users WHERE id = ?7)', params: [userId] },
    ),
  ]);
  return userFromRow(update.results[0] ?? null);
}
