/**
 * Issuing an initial access token for dynamic registration (RFC 7591 §3) from the admin API: the token's INSERT and its
 * audit row in one D1 batch (issue 16: audit() after the INSERT only logged a failure, leaving an unaudited token that
 * can register clients).
 */
import { auditStatement } from '../storage/audit';
import { type IssuedInitialAccessToken, newInitialAccessTokenStatement } from '../storage/initial-access-tokens';

export async function issueInitialAccessTokenAudited(
  env: Env,
  input: { ttlSeconds: number; maxUses: number | null; label: string | null },
  requestId?: string,
): Promise<IssuedInitialAccessToken> {
  const db = env.DB;
  const { issued, statement } = await newInitialAccessTokenStatement(db, input);
  await db.batch([
    statement,
    auditStatement(db, 'initial_access_token_issued', {
      actor: 'admin',
      detail: { expires_at: issued.expiresAt, max_uses: input.maxUses },
      requestId,
    }),
  ]);
  return issued;
}
