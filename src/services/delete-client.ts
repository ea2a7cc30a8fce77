/**
 * Deleting a client: the one implementation behind the admin API (DELETE /admin/clients/:id), RFC 7592 §2.3
 * (DELETE /oauth2/register/:id) and the portal (POST /apps/:id/delete), so all three leave the same state.
 * One D1 batch (one transaction, rolled back as a whole on failure), in this order:
 * 1. the client's access tokens go on the deny-list first (kind 'client': every token issued to it so far, which covers
 *    every family's access tokens too), so no failure can leave a deleted client's tokens alive;
 * 2. its refresh tokens, consents, registration access token (RFC 7592 §1), authorization codes and the client row go;
 * 3. the audit row.
 * The KV client cache is cleared after the batch (a cache entry can only say less than D1 now does).
 */
import { getConfig } from '../config';
import type { Client } from '../oauth/client';
import { auditStatement } from '../storage/audit';
import { getClientFromDb, invalidateClient } from '../storage/clients';
import { revocationsChanged, revokeTokensOfStatement } from '../storage/revocations';

export interface DeleteClientAudit {
  /** Who deleted it: "admin", "registration" or the owner's user id. */
  actor: string;
  via: 'admin' | 'rfc7592' | 'portal' | 'idle';
  requestId?: string;
}

/** Deletes a client and everything issued to it. Returns whether it existed. */
export async function deleteClient(env: Env, clientId: string, audit: DeleteClientAudit): Promise<boolean> {
  const db = env.DB;
  const results = await db.batch([
    revokeTokensOfStatement(db, 'client', clientId, getConfig(env).accessTokenTtl),
    db.prepare('DELETE FROM refresh_tokens WHERE client_id = ?1').bind(clientId),
    db.prepare('DELETE FROM consents WHERE client_id = ?1').bind(clientId),
    db.prepare('DELETE FROM client_registrations WHERE client_id = ?1').bind(clientId),
    db.prepare('DELETE FROM authorization_codes WHERE client_id = ?1').bind(clientId),
    db.prepare('DELETE FROM clients WHERE id = ?1').bind(clientId),
    auditStatement(db, 'client_deleted', {
      actor: audit.actor,
      subject: clientId,
      detail: { via: audit.via },
      requestId: audit.requestId,
    }),
  ]);
  await revocationsChanged(env.CACHE);
  await invalidateClient(env.CACHE, clientId);
  return (results[5].meta.changes ?? 0) > 0;
}

/**
 * The admin API's and the portal's delete: false when there is no such client (or `allowed` refuses it: the portal's
 * owner rule). Issue 16: the cache is cleared after the batch, so a failing KV delete answers 503 with the client
 * already gone from D1; the retry then finds no client, and clears the cache again here, so a stale KV copy (5 min)
 * cannot keep a deleted client authenticating in other isolates.
 */
export async function deleteClientIfPresent(
  env: Env,
  clientId: string,
  audit: DeleteClientAudit,
  allowed: (client: Client) => boolean = () => true,
): Promise<boolean> {
  const client = await getClientFromDb(env.DB, clientId);
  if (!client) {
    await invalidateClient(env.CACHE, clientId);
    return false;
  }
  if (!allowed(client)) return false;
  return deleteClient(env, clientId, audit);
}
