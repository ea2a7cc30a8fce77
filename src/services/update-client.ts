/**
 * Changing a registered client from the admin API (PATCH /admin/clients/:id): the UPDATE and its audit row in one
 * D1 batch (one transaction), the audit row written only when the client still exists (auditStatementIf), so there
 * is neither an unaudited change nor an audit row for a change that did not happen. The client cache is dropped
 * after the batch (storage/clients.ts: this isolate's copy and KV), so the next request sees the change.
 */
import { auditStatementIf } from '../storage/audit';
import {
  type Client,
  type ClientChanges,
  clientFromRow,
  invalidateClient,
  updateClientStatement,
} from '../storage/clients';

export async function updateClientAudited(
  env: Env,
  id: string,
  changes: ClientChanges,
  audit: { actor: string; detail: Record<string, unknown>; requestId?: string },
): Promise<Client | null> {
  const db = env.DB;
  const [update] = await db.batch([
    updateClientStatement(db, id, changes),
    auditStatementIf(
      db,
      'client_updated',
      { actor: audit.actor, subject: id, detail: audit.detail, requestId: audit.requestId },
      { sql: 'EXISTS (SELECT 1 FROM clients WHERE id = ?7)', params: [id] },
    ),
  ]);
  await invalidateClient(env.CACHE, id);
  const row = update.results[0];
  return row ? clientFromRow(row) : null;
}
