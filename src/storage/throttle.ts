/**
 * Failure counters in D1 (table `throttle`). D1, not KV: the counter must be consistent across
 * locations, and KV allows ~1 write per second per key with ~60 s propagation.
 */
import { LOCK_AFTER, LOCK_SECONDS, type ThrottleState, WINDOW_SECONDS } from '../oauth/throttle-policy';

export const userThrottleKey = (email: string) => `user:${email.trim().toLowerCase()}`;
export const clientThrottleKey = (clientId: string) => `client:${clientId}`;

interface Row {
  failures: number;
  window_start: number;
  locked_until: number;
}

const toState = (r: Row | null | undefined): ThrottleState | null =>
  r ? { failures: r.failures, windowStart: r.window_start, lockedUntil: r.locked_until } : null;

export function throttleReadStatement(db: D1Database, key: string): D1PreparedStatement {
  return db.prepare('SELECT failures, window_start, locked_until FROM throttle WHERE key = ?1').bind(key);
}

export function throttleFromRow(row: unknown): ThrottleState | null {
  return toState(row as Row | undefined);
}

/**
 * Counts one failure atomically (one UPSERT); starts a new window when the old one is over, locks at LOCK_AFTER.
 * `alongside` statements (e.g. the audit row) run in the same batch: still one round trip.
 */
export async function recordFailure(
  db: D1Database,
  key: string,
  now: number,
  alongside: D1PreparedStatement[] = [],
): Promise<ThrottleState> {
  const upsert = db
    .prepare(
      `INSERT INTO throttle (key, failures, window_start, locked_until) VALUES (?1, 1, ?2, 0)
       ON CONFLICT (key) DO UPDATE SET
         failures = CASE WHEN window_start + ?3 <= ?2 THEN 1 ELSE failures + 1 END,
         window_start = CASE WHEN window_start + ?3 <= ?2 THEN ?2 ELSE window_start END,
         locked_until = CASE WHEN window_start + ?3 > ?2 AND failures + 1 >= ?4 THEN ?2 + ?5 ELSE locked_until END
       RETURNING failures, window_start, locked_until`,
    )
    .bind(key, now, WINDOW_SECONDS, LOCK_AFTER, LOCK_SECONDS);
  const [res] = await db.batch([upsert, ...alongside]);
  return toState(res.results[0] as Row)!;
}

export function throttleClearStatement(db: D1Database, key: string): D1PreparedStatement {
  return db.prepare('DELETE FROM throttle WHERE key = ?1').bind(key);
}
