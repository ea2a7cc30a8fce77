/** GET /v1/me (scope base): who the access token is for, so a client can check a token end to end. */
import { Hono } from 'hono';
import { bearerError } from '../lib/errors';
import { requireBearer } from '../middleware/bearer';
import { getClient } from '../storage/clients';
import { getUserSummary } from '../storage/user-summaries';
import type { AppEnv } from '../types';

export const meRoutes = new Hono<AppEnv>();

// RFC 6750 §2.3 is for the image URLs only: a token in this URL is refused (query: 'never').
meRoutes.get('/', requireBearer({ scopes: ['base'], query: 'never' }), async (c) => {
  const token = c.get('token');
  c.header('Cache-Control', 'no-store');
  if (token.sub === token.client_id) {
    const client = await getClient(c.env.DB, c.env.CACHE, token.client_id);
    if (client?.status !== 'active') throw bearerError('invalid_token', 'The client of this token no longer exists.');
    return c.json({ type: 'client', sub: token.sub, client_id: client.id, name: client.name, scope: token.scope });
  }
  // Issue 17: cached like client records (src/storage/user-summaries.ts), so a warm far colo makes no D1 call here.
  const user = await getUserSummary(c.env.DB, c.env.CACHE, token.sub);
  if (user?.status !== 'active')
    throw bearerError('invalid_token', 'The user of this token no longer exists or is disabled.');
  return c.json({ type: 'user', sub: user.id, email: user.email, client_id: token.client_id, scope: token.scope });
});
