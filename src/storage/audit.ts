/** Security audit trail in D1 (table audit_events). Never pass a secret, password or full token in `detail`. */
import { nowSeconds } from '../lib/clock';

export type AuditEvent =
  | 'client_auth_failed'
  | 'login_failed'
  | 'user_locked'
  | 'refresh_token_reuse'
  | 'code_replay'
  | 'client_created'
  | 'client_updated'
  | 'client_deleted'
  | 'client_secret_rotated'
  | 'user_created'
  | 'user_updated'
  | 'user_updated'
  | 'token_revoked'
  | 'keys_rotated'
  | 'consent_revoked'
  | 'initial_access_token_issued'
  | 'resource_server_created'
  | 'resource_server_updated'
  | 'resource_server_deleted';

export interface AuditFields {
  actor?: string | null;
  subject?: string | null;
  detail?: Record<string, unknown>;
  requestId?: string;
}

/** The six values of an audit row, bound as ?1 to ?6 (at, event, actor, subject, detail, request_id). */
function auditValues(event: AuditEvent, f: AuditFields): unknown[] {
  const detail = f.detail ? JSON.stringify(f.detail) : null;
  return [nowSeconds(), event, f.actor ?? null, f.subject ?? null, detail, f.requestId ?? null];
}

export function auditStatement(db: D1Database, event: AuditEvent, f: AuditFields = {}): D1PreparedStatement {
  return db
    .prepare('INSERT INTO audit_events (at, event, actor, subject, detail, request_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6)')
    .bind(...auditValues(event, f));
}

/**
 * An audit row written only when `onlyIf` holds (an SQL condition whose parameters are ?7 onwards), as the last
 * statement of a batch whose earlier statements may have matched no row: the row records what the batch did, and
 * fails (rolling the batch back) with it. `subjectSql`, when given, computes the subject inside the transaction.
 */
export function auditStatementIf(
  db: D1Database,
  event: AuditEvent,
  f: AuditFields,
  onlyIf: { sql: string; params: unknown[]; subjectSql?: string },
): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO audit_events (at, event, actor, subject, detail, request_id)
       SELECT ?1, ?2, ?3, ${onlyIf.subjectSql ?? '?4'}, ?5, ?6 WHERE ${onlyIf.sql}`,
    )
    .bind(...auditValues(event, f), ...onlyIf.params);
}

/** Writes one audit event; a failure to audit is logged, never turned into a failed request. */
export async function audit(db: D1Database, event: AuditEvent, f: AuditFields = {}): Promise<void> {
  try {
    await auditStatement(db, event, f).run();
  } catch (err) {
    console.error(
      JSON.stringify({ level: 'error', event: 'audit_write_failed', audit: event, message: String(err).slice(0, 200) }),
    );
  }
}
