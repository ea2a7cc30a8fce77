/**
 * Browser sessions in D1 (table `sessions`, migration 0007): one row per sign-in, keyed by the SHA-256 of the random
 * session id the cookie carries (the id itself is never stored). A page reads its session and user in one statement;
 * ending a session is deleting its row, which every isolate sees at once (D1, not KV: no 60 s lag).
 */
import { nowSeconds } from '../lib/clock';

/** Inserts a session row. */
export function createSessionStatement(
  db: D1Database,
  hash: string,
  userId: string,
  ttlSeconds: number,
): D1PreparedStatement {
  const now = nowSeconds();
  return db
    .prepare('INSERT INTO sessions (hash, user_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)')
    .bind(hash, userId, now, now + ttlSeconds);
}

/**
 * The user of a live session, as a `users` row (read it with userFromRow): none when the session is unknown, ended,
 * expired, or its user is disabled. One indexed read.
 */
export function sessionUserStatement(db: D1Database, hash: string): D1PreparedStatement {
  return db
    .prepare(
      // session_created_at: when the user signed in (OpenID Connect auth_time); userFromRow ignores it.
      `SELECT u.*, s.created_at AS session_created_at FROM sessions s JOIN users u ON u.id = s.user_id
        WHERE s.hash = ?1 AND s.expires_at > ?2 AND u.status = 'active'`,
    )
    .bind(hash, nowSeconds());
}

/** The consent the session's user gave a client (read it with consentFromRow), to batch with sessionUserStatement. */
export function sessionConsentStatement(db: D1Database, hash: string, clientId: string): D1PreparedStatement {
  return db
    .prepare(
      'SELECT c.scope_mask, c.resources FROM sessions s JOIN consents c ON c.user_id = s.user_id WHERE s.hash = ?1 AND c.client_id = ?2',
    )
    .bind(hash, clientId);
}

/** Ends one session. */
export function deleteSessionStatement(db: D1Database, hash: string): D1PreparedStatement {
  return db.prepare('DELETE FROM sessions WHERE hash = ?1').bind(hash);
}

/** Ends every session of a user (password reset, user disabled). */
export function deleteUserSessionsStatement(db: D1Database, userId: string): D1PreparedStatement {
  return db.prepare('DELETE FROM sessions WHERE user_id = ?1').bind(userId);
}
