/**
 * Token introspection, RFC 7662, at POST /oauth2/introspect. Only authenticated confidential clients may call it
 * (§2.1), and a client learns about its own tokens only: another client's token is reported `{active: false}`,
 * like an expired, revoked, malformed or unknown one (§4: do not tell a caller what it has no business knowing).
 * A separate resource server verifies our JWT access tokens itself with the JWKS (RFC 9068) and does not need this.
 * Revocations are read from D1 (isRevokedNow), so they are honoured here at once.
 */
import { Hono } from 'hono';
import { nowSeconds } from '../lib/clock';
import { OAuthError, refusedAsNull } from '../lib/errors';
import { limitClient } from '../middleware/rate-limit';
import { assertionAudience } from '../oauth/client-assertion';
import { readFormRequest } from '../oauth/form';
import { tokenKind } from '../oauth/token-hint';
import { authenticateClient } from '../services/client-auth';
import { findRefreshToken, isRefreshActive } from '../storage/refresh-token-lookup';
import { authenticateAccessToken } from '../tokens/authenticate-access-token';
import type { AppEnv } from '../types';

export const introspectRoutes = new Hono<AppEnv>();

introspectRoutes.post('/', async (c) => {
  const params = await readFormRequest(c.req.raw);
  const caller = await authenticateClient(
    c.env,
    c.req.header('Authorization'),
    params,
    assertionAudience(c.get('config').issuer),
  );
  if (!caller.authenticated) {
    throw new OAuthError(
      'invalid_client',
      'Introspection is for confidential clients: authenticate with client_id and client_secret.',
      {
        headers: { 'WWW-Authenticate': 'Basic realm="oauth", charset="UTF-8"' },
      },
    );
  }
  await limitClient(c, caller, 'introspect');
  const token = params.get('token');
  if (!token) throw new OAuthError('invalid_request', 'The "token" parameter is required.');
  const config = c.get('config');
  // §2.2: no-store, the answer describes a credential.
  c.header('Cache-Control', 'no-store');
  c.header('Pragma', 'no-cache');

  if (tokenKind(token) === 'access_token') {
    // The same authentication as every protected route, with the deny-list read from D1 now (revocation: 'now').
    // The token comes in the form body here (RFC 7662 §2.1), so the bearer middleware's placement rule does not apply.
    const claims = await authenticateAccessToken(c.env, token, 'now').catch(refusedAsNull);
    if (!claims || claims.client_id !== caller.client.id) return c.json({ active: false });
    return c.json({
      active: true,
      scope: claims.scope,
      client_id: claims.client_id,
      sub: claims.sub,
      exp: claims.exp,
      iat: claims.iat,
      iss: claims.iss,
      aud: claims.aud,
      token_type: 'Bearer',
      jti: claims.jti,
    });
  }
  const found = await findRefreshToken(c.env.DB, token);
  if (!found || found.clientId !== caller.client.id || !isRefreshActive(found, nowSeconds()))
    return c.json({ active: false });
  return c.json({
    active: true,
    scope: found.scope,
    client_id: found.clientId,
    sub: found.userId ?? found.clientId,
    exp: found.expiresAt,
    iat: found.createdAt,
    iss: config.issuer,
    aud: config.issuer, // a refresh token is only ever presented back to this server
    token_type: 'refresh_token',
  });
});

introspectRoutes.all('/', () => {
  throw new OAuthError('invalid_request', 'The introspection endpoint accepts POST only.', {
    status: 405,
    headers: { Allow: 'POST' },
  });
});
