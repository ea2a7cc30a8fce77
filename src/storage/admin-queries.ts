/** Read-only listings for the admin API (bounded pages, newest first). */

export interface ClientSummary {
  client_id: string;
  client_name: string;
  status: string;
  confidential: boolean;
  grant_types: string[];
  scope: string;
  created_at: number;
}

export async function listClients(db: D1Database, limit: number, offset: number): Promise<ClientSummary[]> {
  const { results } = await db
    .prepare(
      'SELECT id, name, status, confidential, grant_types, scopes, created_at FROM clients ORDER BY created_at DESC, id LIMIT ?1 OFFSET ?2',
    )
    .bind(limit, offset)
    .all<{
      id: string;
      name: string;
      status: string;
      confidential: number;
      grant_types: string;
      scopes: string;
      created_at: number;
    }>();
  return results.map((r) => ({
    client_id: r.id,
    client_name: r.name,
    status: r.status,
    confidential: r.confidential === 1,
    grant_types: JSON.parse(r.grant_types) as string[],
    scope: r.scopes,
    created_at: r.created_at,
  }));
}

export interface AuditRow {
  id: number;
  at: number;
  event: string;
  actor: string | null;
  subject: string | null;
  detail: unknown;
  request_id: string | null;
}

export async function listAuditEvents(
  db: D1Database,
  q: { limit: number; event?: string; beforeId?: number; since?: number },
): Promise<AuditRow[]> {
  const { results } = await db
    .prepare(
      `SELECT id, at, event, actor, subject, detail, request_id FROM audit_events
        WHERE (?2 IS NULL OR event = ?2) AND (?3 IS NULL OR id < ?3) AND (?4 IS NULL OR at >= ?4)
        ORDER BY id DESC LIMIT ?1`,
    )
    .bind(q.limit, q.event ?? null, q.beforeId ?? null, q.since ?? null)
    .all<Omit<AuditRow, 'detail'> & { detail: string | null }>();
  return results.map((r) => ({ ...r, detail: r.detail ? (JSON.parse(r.detail) as unknown) : null }));
}
