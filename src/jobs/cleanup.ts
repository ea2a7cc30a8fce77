/**
 * Housekeeping run by the Cron Trigger: deletes what has expired, in bounded batches, so the tables stay bounded.
 * Each batch is one `DELETE … WHERE rowid IN (SELECT rowid … LIMIT n)`: short write transactions that interleave
 * with traffic, and only rows whose expiry has passed are touched, so it is safe to run concurrently with requests
 * (a live token is never deleted; deleting an expired one changes no answer: it is refused either way).
 */
import { getConfig } from '../config';
import { nowSeconds } from '../lib/clock';
import { WINDOW_SECONDS } from '../oauth/throttle-policy';
import { deleteClient } from '../services/delete-client';
import { idleOpenClients } from '../storage/open-clients';
import { retireExpiredKeysStatement } from '../storage/signing-keys';

export const BATCH_SIZE = 500;
/** At most this many batches per table per run; the next run continues (the cron runs every 15 min). */
export const MAX_BATCHES = 20;
/** How long the audit trail is kept. */
export const AUDIT_RETENTION_SECONDS = 180 * 86_400;

interface Target {
  table: string;
  /** SQL condition with ?1 = now: true only for rows nobody needs any more. */
  expired: string;
}

/** What is deleted. Refresh tokens go at their family's absolute expiry (reuse detection needs used rows until then). */
export const TARGETS: Target[] = [
  { table: 'refresh_tokens', expired: 'expires_at <= ?1' },
  { table: 'revocations', expired: 'expires_at <= ?1' },
  { table: 'throttle', expired: `window_start + ${WINDOW_SECONDS} <= ?1 AND locked_until <= ?1` },
  { table: 'initial_access_tokens', expired: 'expires_at <= ?1' },
  // An expired session is refused by its expires_at already; the row only waits here to be deleted.
  { table: 'sessions', expired: 'expires_at <= ?1' },
  { table: 'audit_events', expired: `at <= ?1 - ${AUDIT_RETENTION_SECONDS}` },
  // Codes are kept a day past expiry so a late replay is still recognised (RFC 6749 §4.1.2).
  { table: 'authorization_codes', expired: 'expires_at + 86400 <= ?1' },
  // Issue 13: a jti record outlives its assertion's acceptance (exp + tolerance) by nothing; after that exp refuses it.
  { table: 'client_assertion_jtis', expired: 'expires_at < ?1' },
];

export interface CleanupReport {
  now: number;
  deleted: Record<string, number>;
  keysRetired: number;
  /** Issue 13: openly registered clients deleted after OPEN_CLIENT_IDLE_DAYS unused. */
  idleClientsDeleted: number;
}

/** At most this many idle clients per run (each is one delete batch); the next run continues. */
export const MAX_IDLE_CLIENTS = 50;

/**
 * Issue 13: deletes the clients registered without an initial access token that nobody used for OPEN_CLIENT_IDLE_DAYS,
 * with everything issued to them (src/services/delete-client.ts: tokens deny-listed, refresh tokens, consents, codes,
 * registration token, audit row).
 */
async function deleteIdleClients(env: Env, now: number): Promise<number> {
  const cutoff = now - getConfig(env).openClientIdleDays * 86_400;
  let deleted = 0;
  for (const id of await idleOpenClients(env.DB, cutoff, MAX_IDLE_CLIENTS)) {
    if (await deleteClient(env, id, { actor: 'cleanup', via: 'idle' })) deleted++;
  }
  return deleted;
}

async function purge(db: D1Database, t: Target, now: number): Promise<number> {
  let total = 0;
  for (let i = 0; i < MAX_BATCHES; i++) {
    const res = await db
      .prepare(
        `DELETE FROM ${t.table} WHERE rowid IN (SELECT rowid FROM ${t.table} WHERE ${t.expired} LIMIT ${BATCH_SIZE})`,
      )
      .bind(now)
      .run();
    const n = res.meta.changes ?? 0;
    total += n;
    if (n < BATCH_SIZE) break;
  }
  return total;
}

/** Runs every target once; a failing table is logged and the others still run. */
export async function runCleanup(env: Env): Promise<CleanupReport> {
  const now = nowSeconds();
  const report: CleanupReport = { now, deleted: {}, keysRetired: 0, idleClientsDeleted: 0 };
  for (const t of TARGETS) {
    try {
      report.deleted[t.table] = await purge(env.DB, t, now);
    } catch (err) {
      console.error(
        JSON.stringify({ level: 'error', event: 'cleanup_failed', table: t.table, message: String(err).slice(0, 200) }),
      );
    }
  }
  try {
    report.keysRetired = (await retireExpiredKeysStatement(env.DB, now).run()).meta.changes ?? 0;
  } catch (err) {
    console.error(
      JSON.stringify({
        level: 'error',
        event: 'cleanup_failed',
        table: 'signing_keys',
        message: String(err).slice(0, 200),
      }),
    );
  }
  try {
    report.idleClientsDeleted = await deleteIdleClients(env, now);
  } catch (err) {
    console.error(
      JSON.stringify({ level: 'error', event: 'cleanup_failed', table: 'clients', message: String(err).slice(0, 200) }),
    );
  }
  console.log(JSON.stringify({ level: 'info', event: 'cleanup', ...report }));
  return report;
}
