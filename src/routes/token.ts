/**
 * The token endpoint (RFC 6749 §3.2), at /oauth2/token and /v1/oauth2/token (CitrusAd path):
 * parse the form → authenticate the client → run the grant → sign → respond.
 */
import { Hono } from 'hono';
import { OAuthError } from '../lib/errors';
import { limitClient } from '../middleware/rate-limit';
import { assertionAudience } from '../oauth/client-assertion';
import { readFormRequest } from '../oauth/form';
import { GRANT_TYPES, isGrantType } from '../oauth/grant-types';
import { authenticateClient } from '../services/client-auth';
import { GRANTS } from '../services/grants';
import { noteOpenClientUse } from '../storage/open-clients';
import { getKeyRing } from '../tokens/keyring';
import type { AppEnv } from '../types';

export const tokenRoutes = new Hono<AppEnv>();

tokenRoutes.post('/', async (c) => {
  const params = await readFormRequest(c.req.raw, {
    // Issue 11: the body is authoritative; a differing grant_type in the URL (seed 000's refresh curl) is ignored.
    onQueryGrantType: (query, body) =>
      console.log(
        JSON.stringify({
          level: 'info',
          requestId: c.get('requestId'),
          event: 'query_grant_type_ignored',
          query: query.slice(0, 40),
          body: body.slice(0, 40),
        }),
      ),
  });
  const grantType = params.get('grant_type');
  if (!grantType) throw new OAuthError('invalid_request', 'The "grant_type" parameter is required.');
  if (!isGrantType(grantType)) {
    throw new OAuthError(
      'unsupported_grant_type',
      `The grant type "${grantType.slice(0, 40)}" is not supported; use one of ${GRANT_TYPES.join(', ')}.`,
    );
  }
  const grant = GRANTS[grantType];
  const caller = await authenticateClient(
    c.env,
    c.req.header('Authorization'),
    params,
    assertionAudience(c.get('config').issuer),
  );
  await limitClient(c, caller, 'token'); // issue 16: per client, once it has proved who it is
  const config = c.get('config');
  const result = await grant({
    env: c.env,
    config,
    ring: await getKeyRing(c.env),
    params,
    caller,
    requestId: c.get('requestId'),
  });
  // Issue 13: an openly registered client's idle clock (at most one D1 write a day, after the response).
  if (caller.client.registeredOpenly) {
    const touch = noteOpenClientUse(c.env.DB, caller.client.id);
    if (touch) c.executionCtx.waitUntil(touch);
  }
  // RFC 6749 §5.1: the response carries tokens, so it must never be cached.
  c.header('Cache-Control', 'no-store');
  c.header('Pragma', 'no-cache');
  return c.json({
    access_token: result.accessToken,
    token_type: 'Bearer',
    expires_in: result.expiresIn,
    scope: result.scope,
    ...(result.refreshToken ? { refresh_token: result.refreshToken } : {}),
    ...(result.idToken ? { id_token: result.idToken } : {}),
  });
});

tokenRoutes.all('/', () => {
  throw new OAuthError('invalid_request', 'The token endpoint accepts POST only.', {
    status: 405,
    headers: { Allow: 'POST' },
  });
});
