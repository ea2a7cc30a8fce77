/**
 * Bearer-token middleware for protected routes (RFC 6750): reads the token from the Authorization header,
 * verifies it with no storage read, and checks the scope. Verified claims go to `c.get('token')`.
 */
import type { MiddlewareHandler } from 'hono';
import { bearerError } from '../oauth/errors';
import type { Scope } from '../oauth/scopes';
import { authenticateAccessToken } from '../tokens/authenticate-access-token';
import { tokenScopes } from '../tokens/verify-access-token';
import type { AppEnv } from '../types';

export interface BearerOptions {
  /** The token must carry at least one of these scopes. */
  anyOf: Scope[];
}

/** Extracts the token from `Authorization: Bearer`; null when absent, invalid_request when malformed. */
export function bearerFromHeader(header: string | undefined): string | null {
  if (!header) return null;
  const m = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header);
  if (!m) {
    if (/^bearer\b/i.test(header)) throw bearerError('invalid_request', 'The Authorization header must be "Bearer <token>".');
    return null;
  }
  return m[1];
}

export function requireBearer(options: BearerOptions): MiddlewareHandler<AppEnv> {
  if (options.anyOf.length === 0) throw new Error('requireBearer: anyOf must name at least one scope');
  const needed = options.anyOf.join(' ');
  return async function bearerMiddleware(c, next) {
    const token = bearerFromHeader(c.req.header('Authorization'));
    if (!token) throw bearerError(null, 'An access token is required.', { scope: needed });
    const claims = await authenticateAccessToken(c.env, token);
    if (!tokenScopes(claims).some((s) => (options.anyOf as string[]).includes(s))) {
      throw bearerError('insufficient_scope', `This resource requires the scope "${needed}".`, { scope: needed });
    }
    c.set('token', claims);
    await next();
  };
}
