/**
 * Remembered consent (table `consents`): which scopes a user allowed a client, as a bit mask, so a later
 * authorization request for a subset does not ask again. Withdrawn by the user in the portal.
 */
import { nowSeconds } from '../lib/clock';

/** The bit mask from a consent row (sessionConsentStatement in storage/sessions.ts; 0 when there is no consent). */
export function consentMaskFromRow(row: unknown): number {
  return (row as { scope_mask: number } | undefined)?.scope_mask ?? 0;
}

/** Records (widens) a consent; to be batched with the code insert. */
export function grantConsentStatement(
  db: D1Database,
  userId: string,
  clientId: string,
  mask: number,
): D1PreparedStatement {
  const now = nowSeconds();
  return db
    .prepare(
      `INSERT INTO consents (user_id, client_id, scope_mask, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4)
       ON CONFLICT (user_id, client_id) DO UPDATE SET scope_mask = scope_mask | ?3, updated_at = ?4`,
    )
    .bind(userId, clientId, mask, now);
}

export interface ConsentView {
  clientId: string;
  clientName: string;
  siteUrl: string | null;
  scopeMask: number;
  updatedAt: number;
}

/** The consents a user has given, with the app names, newest first. */
export async function listConsents(db: D1Database, userId: string): Promise<ConsentView[]> {
  const { results } = await db
    .prepare(
      `SELECT c.client_id, c.scope_mask, c.updated_at, k.name, k.site_url FROM consents c
         JOIN clients k ON k.id = c.client_id WHERE c.user_id = ?1 ORDER BY c.updated_at DESC`,
    )
    .bind(userId)
    .all<{ client_id: string; scope_mask: number; updated_at: number; name: string; site_url: string | null }>();
  return results.map((r) => ({
    clientId: r.client_id,
    clientName: r.name,
    siteUrl: r.site_url,
    scopeMask: r.scope_mask,
    updatedAt: r.updated_at,
  }));
}

/** Deletes one consent; batched by the withdraw-consent service (src/services/withdraw-consent.ts). */
export function deleteConsentStatement(db: D1Database, userId: string, clientId: string): D1PreparedStatement {
  return db.prepare('DELETE FROM consents WHERE user_id = ?1 AND client_id = ?2').bind(userId, clientId);
}
