/** The ID token of an authorization-code redemption (OpenID Connect Core §3.1.3.3), when the scope has `openid`. */
import type { Config } from '../../config';
import type { Client } from '../../oauth/client';
import { userClaims } from '../../oauth/oidc-claims';
import type { ClaimsRequest } from '../../oauth/oidc-request';
import { subjectFor } from '../../oauth/subject';
import type { CodeRecord } from '../../storage/authorization-codes';
import { getUserById } from '../../storage/users';
import { issueIdToken } from '../../tokens/id-token';
import type { KeyRing } from '../../tokens/keyring';

export async function idTokenForCode(
  env: Env,
  config: Config,
  ring: KeyRing,
  client: Client,
  record: CodeRecord,
  accessToken: string,
): Promise<string | undefined> {
  const scopes = record.scope.split(' ');
  if (!scopes.includes('openid')) return undefined;
  const requested = record.oidc.claims ? (JSON.parse(record.oidc.claims) as ClaimsRequest).id_token : undefined;
  // Core §5.4: the scope claims go to UserInfo (an access token is issued); the ID token carries those the claims
  // request asks for in it (§5.5). One D1 read, only then.
  let claims: Record<string, unknown> = {};
  if (requested && Object.keys(requested).length > 0) {
    const user = await getUserById(env.DB, record.userId);
    if (user) claims = userClaims(user, [], requested);
  }
  return issueIdToken(config, ring, {
    sub: await subjectFor(config, client, record.userId),
    client,
    accessToken,
    nonce: record.oidc.nonce,
    authTime: record.oidc.authTime,
    sid: record.oidc.sid,
    claims,
  });
}
