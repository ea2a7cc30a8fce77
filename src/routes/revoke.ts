/**
 * Token revocation, RFC 7009, at POST /oauth2/revoke.
 * - refresh token → its whole family is revoked, and the access tokens issued from it with it (§2.1: the grant goes
 *   with it; src/services/revoke-grant.ts);
 * - access token → its jti goes on the deny-list until its exp: introspection honours it at once, protected
 *   routes within SNAPSHOT_SECONDS (src/storage/revocations.ts);
 * - another client's token, an unknown, expired or malformed token → 200 and nothing happens (§2.2).
 * Public clients may revoke their own tokens (they name themselves with client_id; §5 notes the risk is low).
 */
import { Hono } from 'hono';
import { nowSeconds } from '../lib/clock';
import { OAuthError, refusedAsNull } from '../lib/errors';
import { limitClient } from '../middleware/rate-limit';
import { assertionAudience } from '../oauth/client-assertion';
import { readFormRequest } from '../oauth/form';
import { tokenKind } from '../oauth/token-hint';
import { authenticateClient } from '../services/client-auth';
import { revokeAccessToken, revokeGrant } from '../services/revoke-grant';
import { findRefreshToken } from '../storage/refresh-token-lookup';
import { authenticateAccessToken } from '../tokens/authenticate-access-token';
import type { AppEnv } from '../types';

export const revokeRoutes = new Hono<AppEnv>();

revokeRoutes.post('/', async (c) => {
  const params = await readFormRequest(c.req.raw);
  const caller = await authenticateClient(
    c.env,
    c.req.header('Authorization'),
    params,
    assertionAudience(c.get('config').issuer),
  );
  await limitClient(c, caller, 'revoke');
  const { client } = caller;
  const token = params.get('token');
  if (!token) throw new OAuthError('invalid_request', 'The "token" parameter is required.');
  const requestId = c.get('requestId');
  const db = c.env.DB;

  if (tokenKind(token) === 'access_token') {
    // The one authentication function (issue 12), deny-list snapshot included: an invalid, expired or already
    // revoked token needs no revoking; another client's token is not this client's to revoke.
    const claims = await authenticateAccessToken(c.env, token).catch(refusedAsNull);
    if (claims && claims.client_id === client.id) {
      await revokeAccessToken(c.env, claims, {
        actor: client.id,
        subject: claims.sub,
        detail: { type: 'access_token', jti: claims.jti },
        requestId,
      });
    }
  } else {
    const found = await findRefreshToken(db, token);
    if (found && found.clientId === client.id && found.revokedAt === null && found.expiresAt > nowSeconds()) {
      await revokeGrant(c.env, found.familyId, {
        actor: client.id,
        subject: found.userId,
        detail: { type: 'refresh_token', family: found.familyId },
        requestId,
      });
    }
  }
  // RFC 7009 §2.2: 200 whether or not there was anything to revoke; the body is ignored by clients.
  c.header('Cache-Control', 'no-store');
  return c.body(null, 200);
});

revokeRoutes.all('/', () => {
  throw new OAuthError('invalid_request', 'The revocation endpoint accepts POST only.', {
    status: 405,
    headers: { Allow: 'POST' },
  });
});
