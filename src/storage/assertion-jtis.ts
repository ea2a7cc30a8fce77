/**
 * The replay record of client assertions (migrations/0011 client_assertion_jtis): RFC 7523 §3 item 7 lets the server
 * accept a `jti` once; we require it and do. D1 is the single source of truth (DESIGN.md: single use is one atomic
 * statement, never read-then-write, never KV), so two requests carrying one assertion at the same moment, in any
 * two locations, meet at the same primary key and exactly one INSERT changes a row.
 */
import { sha256 } from '../lib/random';

/**
 * Records the use of (client id, jti) until `expiresAt` (seconds: the last moment the assertion is accepted, its
 * exp plus the clock tolerance). True when this call is the first use; false when the pair was seen before and is
 * still recorded (a replay). A record whose time has passed and which the cron has not deleted yet is taken over,
 * so the answer never depends on when the cleanup ran. The hash keeps the client's jti, a value it chose, out
 * of the table's key space as it is, and binds it to the client, so two clients' jtis never collide.
 */
export async function recordAssertionUse(
  db: D1Database,
  clientId: string,
  jti: string,
  expiresAt: number,
  now: number,
): Promise<boolean> {
  const hash = await sha256(`${clientId} ${jti}`);
  const res = await db
    .prepare(
      'INSERT INTO client_assertion_jtis (hash, expires_at) VALUES (?1, ?2) ' +
        'ON CONFLICT (hash) DO UPDATE SET expires_at = excluded.expires_at WHERE client_assertion_jtis.expires_at < ?3',
    )
    .bind(hash, expiresAt, now)
    .run();
  return (res.meta.changes ?? 0) === 1;
}
