/**
 * Remembered consent (table `consents`): which scopes of which resources a user allowed a client (src/oauth/consent.ts:
 * a bit mask for /v1 and OpenID Connect, entries for other resource servers, migration 0013), so a later
 * authorization request for a subset does not ask again. Withdrawn by the user in the portal, all resources at once.
 */
import { nowSeconds } from '../lib/clock';
import { type Consent, NO_CONSENT } from '../oauth/consent';

/** The consent from a row (sessionConsentStatement in storage/sessions.ts); none when there is no row. */
export function consentFromRow(row: unknown): Consent {
  const r = row as { scope_mask: number; resources: string | null } | undefined;
  if (!r) return NO_CONSENT;
  return { mask: r.scope_mask, entries: r.resources ? (JSON.parse(r.resources) as string[]) : [] };
}

/**
 * Records (widens) a consent; to be batched with the code insert. Widening is inside the statement: the mask with
 * `|`, the entries as a set union (UNION de-duplicates), so two Allows at once both count.
 */
export function grantConsentStatement(
  db: D1Database,
  userId: string,
  clientId: string,
  consent: Consent,
): D1PreparedStatement {
  const now = nowSeconds();
  const entries = consent.entries.length > 0 ? JSON.stringify([...new Set(consent.entries)]) : null;
  return db
    .prepare(
      `INSERT INTO consents (user_id, client_id, scope_mask, resources, created_at, updated_at)
       VALUES (?1, ?2, ?3, ?4, ?5, ?5)
       ON CONFLICT (user_id, client_id) DO UPDATE SET scope_mask = scope_mask | ?3, updated_at = ?5,
         resources = CASE WHEN ?4 IS NULL THEN resources ELSE (
           SELECT json_group_array(value) FROM (
             SELECT value FROM json_each(COALESCE(consents.resources, '[]')) UNION SELECT value FROM json_each(?4)
           )
         ) END`,
    )
    .bind(userId, clientId, consent.mask, entries, now);
}

export interface ConsentView {
  clientId: string;
  /** Null when the client is not registered: a Client ID Metadata Document client (src/services/consented-apps.ts). */
  clientName: string | null;
  siteUrl: string | null;
  scopeMask: number;
  /** The other resource servers allowed (their canonical URIs, migration 0013). */
  resources: string[];
  updatedAt: number;
}

/**
 * The consents a user has given, newest first, with the app names of registered clients. A consent given to a client
 * known only by its metadata document (an https client_id, issue 13) has no clients row: LEFT JOIN, name null.
 */
export async function listConsents(db: D1Database, userId: string): Promise<ConsentView[]> {
  const { results } = await db
    .prepare(
      `SELECT c.client_id, c.scope_mask, c.resources, c.updated_at, k.name, k.site_url FROM consents c
         LEFT JOIN clients k ON k.id = c.client_id WHERE c.user_id = ?1 ORDER BY c.updated_at DESC, c.client_id`,
    )
    .bind(userId)
    .all<{
      client_id: string;
      scope_mask: number;
      resources: string | null;
      updated_at: number;
      name: string | null;
      site_url: string | null;
    }>();
  return results.map((r) => ({
    clientId: r.client_id,
    clientName: r.name,
    siteUrl: r.site_url,
    scopeMask: r.scope_mask,
    resources: consentFromRow(r).entries.filter((e) => !e.includes(' ')),
    updatedAt: r.updated_at,
  }));
}

/** Deletes one consent; batched by the withdraw-consent service (src/services/withdraw-consent.ts). */
export function deleteConsentStatement(db: D1Database, userId: string, clientId: string): D1PreparedStatement {
  return db.prepare('DELETE FROM consents WHERE user_id = ?1 AND client_id = ?2').bind(userId, clientId);
}
