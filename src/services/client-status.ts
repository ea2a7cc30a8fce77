/**
 * Disabling or enabling a client (admin API). Disabling stops client authentication at once and, in the same D1 batch
 * and before the status changes, deny-lists every access token issued to the client so far (kind 'client'), so a
 * failure can never leave a disabled client's tokens working. The KV client cache is cleared after the batch.
 */
import { getConfig } from '../config';
import { nowSeconds } from '../lib/clock';
import { auditStatement } from '../storage/audit';
import { type Client, clientFromRow, invalidateClient } from '../storage/clients';
import { revocationsChanged, revokeTokensOfStatement } from '../storage/revocations';

/** Sets the status; returns the updated client, or null when there is none. */
export async function setClientStatus(
  env: Env,
  clientId: string,
  status: 'active' | 'disabled',
  requestId?: string,
): Promise<Client | null> {
  const db = env.DB;
  const stmts: D1PreparedStatement[] = [];
  if (status === 'disabled') stmts.push(revokeTokensOfStatement(db, 'client', clientId, getConfig(env).accessTokenTtl));
  stmts.push(
    db
      .prepare('UPDATE clients SET status = ?2, updated_at = ?3 WHERE id = ?1 RETURNING *')
      .bind(clientId, status, nowSeconds()),
    auditStatement(db, 'client_updated', { actor: 'admin', subject: clientId, detail: { status }, requestId }),
  );
  const results = await db.batch(stmts);
  await revocationsChanged(env.CACHE);
  await invalidateClient(env.CACHE, clientId);
  const row = results[results.length - 2].results[0];
  return row ? clientFromRow(row) : null;
}

/** Deny-lists a client's tokens before another change disables it (the admin PATCH with "status": "disabled"). */
export async function revokeClientTokens(env: Env, clientId: string): Promise<void> {
  await revokeTokensOfStatement(env.DB, 'client', clientId, getConfig(env).accessTokenTtl).run();
  await revocationsChanged(env.CACHE);
}
