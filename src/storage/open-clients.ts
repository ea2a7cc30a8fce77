/**
 * Issue 13: the idle clock of clients registered without an initial access token (migrations/0010). Using such a
 * client (a token issued to it) moves its `last_used_at`; the cron cleanup deletes those idle longer than
 * OPEN_CLIENT_IDLE_DAYS. Cheap by construction: the UPDATE only writes when the stored day is older than a day, and
 * each isolate asks at most once a day per client (an in-memory note), so a busy client costs one D1 write a day, not
 * one per token request, and the query runs after the response (waitUntil).
 */
import { nowSeconds } from '../lib/clock';

const DAY_SECONDS = 86_400;
const MEMORY_MAX_ENTRIES = 5000;
/** client id → the day (now / 86400) this isolate last recorded its use. */
const noted = new Map<string, number>();

/** The UPDATE that records a use: writes only if the recorded use is a day old or more (or never was). */
export function touchOpenClientStatement(db: D1Database, clientId: string, now: number): D1PreparedStatement {
  return db
    .prepare(
      'UPDATE clients SET last_used_at = ?2 WHERE id = ?1 AND registered_openly = 1 AND (last_used_at IS NULL OR last_used_at <= ?2 - ?3)',
    )
    .bind(clientId, now, DAY_SECONDS);
}

/**
 * Records that an openly registered client was used, at most once a day per isolate; returns the promise to hand to
 * waitUntil, or null when there is nothing to write.
 */
export function noteOpenClientUse(db: D1Database, clientId: string): Promise<unknown> | null {
  const now = nowSeconds();
  const day = Math.floor(now / DAY_SECONDS);
  if (noted.get(clientId) === day) return null;
  if (noted.size >= MEMORY_MAX_ENTRIES) noted.clear();
  noted.set(clientId, day);
  return touchOpenClientStatement(db, clientId, now)
    .run()
    .catch((err: unknown) => {
      noted.delete(clientId);
      console.warn(
        JSON.stringify({ level: 'warn', event: 'open_client_touch_failed', message: String(err).slice(0, 200) }),
      );
    });
}

/** Marks a newly created client as registered openly (batched with its INSERT by src/services/create-client.ts). */
export function markOpenlyRegisteredStatement(db: D1Database, clientId: string, now: number): D1PreparedStatement {
  return db.prepare('UPDATE clients SET registered_openly = 1, last_used_at = ?2 WHERE id = ?1').bind(clientId, now);
}

/** Up to `limit` openly registered clients unused since `cutoff` (seconds), for the cleanup to delete. */
export async function idleOpenClients(db: D1Database, cutoff: number, limit: number): Promise<string[]> {
  const { results } = await db
    .prepare(
      'SELECT id FROM clients WHERE registered_openly = 1 AND COALESCE(last_used_at, created_at) <= ?1 ORDER BY COALESCE(last_used_at, created_at) LIMIT ?2',
    )
    .bind(cutoff, limit)
    .all<{ id: string }>();
  return results.map((r) => r.id);
}
