/** Initial access tokens for dynamic registration (RFC 7591 §3), table initial_access_tokens. Only hashes are stored. */
import { nowSeconds } from '../lib/clock';
import { randomToken, sha256 } from '../lib/random';

export interface IssuedInitialAccessToken {
  token: string;
  expiresAt: number;
  maxUses: number | null;
}

/**
 * A token usable until `ttlSeconds` from now, at most `maxUses` times (null: unlimited), and its INSERT, for
 * src/services/initial-access-tokens.ts to batch with its audit row.
 */
export async function newInitialAccessTokenStatement(
  db: D1Database,
  input: { ttlSeconds: number; maxUses: number | null; label: string | null; token?: string },
): Promise<{ issued: IssuedInitialAccessToken; statement: D1PreparedStatement }> {
  const token = input.token ?? `iat_${randomToken(32)}`;
  const now = nowSeconds();
  const statement = db
    .prepare(
      'INSERT INTO initial_access_tokens (hash, label, created_at, expires_at, max_uses) VALUES (?1, ?2, ?3, ?4, ?5)',
    )
    .bind(await sha256(token), input.label, now, now + input.ttlSeconds, input.maxUses);
  return { issued: { token, expiresAt: now + input.ttlSeconds, maxUses: input.maxUses }, statement };
}

/**
 * The UPDATE that spends one use of the token, for the registration batch (src/services/create-client.ts): it matches
 * no row when the token is unknown, expired or used up, and the client's INSERT that follows it runs only when it
 * matched (`changes() = 1`), so a use is never spent without its client nor a client created without its use.
 */
export async function spendInitialAccessTokenStatement(
  db: D1Database,
  token: string,
): Promise<D1PreparedStatement | null> {
  if (token.length > 200) return null;
  return db
    .prepare(
      `UPDATE initial_access_tokens SET uses = uses + 1
        WHERE hash = ?1 AND expires_at > ?2 AND (max_uses IS NULL OR uses < max_uses)`,
    )
    .bind(await sha256(token), nowSeconds());
}
