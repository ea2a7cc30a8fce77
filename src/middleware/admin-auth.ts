/**
 * Admin API authentication: `Authorization: Bearer <ADMIN_TOKEN>`, compared in constant time.
 * No ADMIN_TOKEN configured → 404 (the admin API does not exist on this deployment); missing header → 401
 * with a bare Bearer challenge; wrong token → 401 invalid_token (RFC 6750 §3.1).
 */
import type { MiddlewareHandler } from 'hono';
import { bearerError, OAuthError } from '../lib/errors';
import { timingSafeEqualStrings } from '../lib/random';
import type { AppEnv } from '../types';
import { presentedToken } from './bearer';

export function requireAdmin(): MiddlewareHandler<AppEnv> {
  return async function adminAuthMiddleware(c, next) {
    const expected = c.get('config').adminToken;
    if (!expected) {
      throw new OAuthError(
        'invalid_request',
        'The admin API is disabled on this server: set the ADMIN_TOKEN secret to enable it.',
        { status: 404 },
      );
    }
    // The same placement rule as every protected route: header only, never in the URL (RFC 6750 §2).
    const presented = presentedToken(c.req.raw, 'never', 'admin')?.token;
    if (!presented)
      throw bearerError(null, 'The admin API needs "Authorization: Bearer <ADMIN_TOKEN>".', { realm: 'admin' });
    if (!(await timingSafeEqualStrings(presented, expected))) {
      throw bearerError('invalid_token', 'The admin token is wrong.', {
        realm: 'admin',
        reason: 'admin token mismatch',
      });
    }
    await next();
  };
}
