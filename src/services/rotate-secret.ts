/**
 * Rotating a confidential client's secret: the one implementation behind the admin API
 * (POST /admin/clients/:id/rotate-secret) and the portal (POST /apps/:id/rotate). RFC 7592 has no rotation operation
 * of its own (Appendix A.1 leaves issuing a new secret on read or update to the server); our RFC 7592 PUT refuses
 * `client_secret` and sends the client to the administrator. One D1 batch: the new hash and the audit
 * row, written only when the UPDATE matched (the same condition, inside the transaction), so there is never a new
 * secret without its audit row. The old secret stops working at once; the KV client cache is cleared after the batch.
 */
import { auditStatementIf } from '../storage/audit';
import { invalidateClient, rotateSecretStatement } from '../storage/clients';

/** Returns the new secret (shown once), or null when there is no confidential client with this id. */
export async function rotateSecret(
  env: Env,
  clientId: string,
  audit: { actor: string; requestId?: string },
): Promise<string | null> {
  const db = env.DB;
  const { statement, secret } = await rotateSecretStatement(db, clientId);
  const [updated] = await db.batch([
    statement,
    auditStatementIf(
      db,
      'client_secret_rotated',
      { actor: audit.actor, subject: clientId, requestId: audit.requestId },
      { sql: 'EXISTS (SELECT 1 FROM clients WHERE id = ?7 AND confidential = 1)', params: [clientId] },
    ),
  ]);
  await invalidateClient(env.CACHE, clientId);
  return updated.results.length > 0 ? secret : null;
}
