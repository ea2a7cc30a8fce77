/**
 * OpenID Connect UserInfo (Core §5.3), GET and POST at /oauth2/userinfo: a Bearer access token (header; for POST also
 * the form body, RFC 6750 §2.2) with scope `openid`; the claims of its scopes (§5.4) and of the claims request of
 * its code (§5.5; not carried here: the scope claims only), `sub` equal to the ID token's (pairwise clients
 * included, §5.3.2). Errors per RFC 6750 §3 with WWW-Authenticate.
 */
import { Hono } from 'hono';
import { bearerError } from '../lib/errors';
import { type BearerEnv, requireBearer } from '../middleware/bearer';
import { userClaims } from '../oauth/oidc-claims';
import { subjectFor } from '../oauth/subject';
import { getClient } from '../storage/clients';
import { getUserById } from '../storage/users';
import { tokenScopes } from '../tokens/verify-access-token';

export const userinfoRoutes = new Hono<BearerEnv>();

const guard = requireBearer({ scopes: ['openid'], query: 'never', body: true, revocation: 'now' });

userinfoRoutes.on(['GET', 'POST'], '/', guard, async (c) => {
  const token = c.get('token');
  c.header('Cache-Control', 'no-store');
  const [user, client] = await Promise.all([
    getUserById(c.env.DB, token.sub),
    getClient(c.env.DB, c.env.CACHE, token.client_id),
  ]);
  // A client_credentials token has no user (its sub is the client): nothing to say about a person.
  if (user?.status !== 'active')
    throw bearerError('invalid_token', 'The user of this token no longer exists or is disabled.');
  if (client?.status !== 'active') throw bearerError('invalid_token', 'The client of this token no longer exists.');
  const sub = await subjectFor(c.get('config'), client, user.id);
  return c.json({ ...userClaims(user, tokenScopes(token)), sub });
});

userinfoRoutes.all('/', () => {
  throw bearerError('invalid_request', 'The UserInfo endpoint accepts GET and POST only.');
});
