/** Registration access tokens (RFC 7592 §1), table client_registrations. Only hashes are stored. */
import { nowSeconds } from '../lib/clock';
import { randomToken, sha256 } from '../lib/random';

/** Prepares the row for a newly registered client; the plaintext token is returned once, to the registrant. */
export async function newRegistration(
  db: D1Database,
  clientId: string,
): Promise<{ token: string; statement: D1PreparedStatement }> {
  const token = `rat_${randomToken(32)}`;
  const statement = db
    // Only beside its client: in a batch where the client's INSERT is conditional (an initial access token spent).
    .prepare(
      'INSERT INTO client_registrations (client_id, rat_hash, created_at) SELECT ?1, ?2, ?3 WHERE EXISTS (SELECT 1 FROM clients WHERE id = ?1)',
    )
    .bind(clientId, await sha256(token), nowSeconds());
  return { token, statement };
}

/** Whether `token` is the registration access token of `clientId` (exact hash match in one indexed read). */
export async function checkRegistrationToken(db: D1Database, clientId: string, token: string): Promise<boolean> {
  if (token.length > 200) return false;
  const row = await db
    .prepare('SELECT 1 AS ok FROM client_registrations WHERE client_id = ?1 AND rat_hash = ?2')
    .bind(clientId, await sha256(token))
    .first();
  return row !== null;
}

export function deleteRegistrationStatement(db: D1Database, clientId: string): D1PreparedStatement {
  return db.prepare('DELETE FROM client_registrations WHERE client_id = ?1').bind(clientId);
}
