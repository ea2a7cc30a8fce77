/**
 * CORS for the endpoints a browser-based agent calls directly (issue 13): the metadata documents (RFC 8414, RFC
 * 9728), the JWKS, the token, registration and revocation endpoints. Hono's `cors` with `*`: none of these reads a
 * cookie, so a page on any origin gains nothing it could not do from a server, and `Access-Control-Allow-Credentials`
 * is never sent (with `*` browsers would refuse it anyway, Fetch standard §3.2.5). Preflight (`OPTIONS`) is
 * answered here, with the headers the MCP SDK sends. Not on the pages (/login, /oauth2/authorize, /apps), the admin
 * API or /v1: they use cookies or are not for browsers. Introspection neither: RFC 7662 §2.1 expects a protected
 * resource calling from its server, with client credentials no browser may hold.
 */
import type { MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';

export const PUBLIC_CORS_PATHS = [
  '/.well-known/*',
  '/oauth2/token',
  '/v1/oauth2/token',
  '/token',
  '/oauth2/register',
  '/oauth2/register/*',
  '/oauth2/revoke',
] as const;

/** A browser client must be able to read the challenge and the back-off of an error. */
const EXPOSED = ['WWW-Authenticate', 'Retry-After'];

export function publicCors(): MiddlewareHandler {
  const preflight = cors({
    origin: '*',
    allowMethods: ['GET', 'POST', 'PUT', 'DELETE', 'OPTIONS'],
    allowHeaders: ['Authorization', 'Content-Type', 'MCP-Protocol-Version'],
    exposeHeaders: EXPOSED,
    maxAge: 86_400,
    credentials: false,
  });
  const exposed = EXPOSED.join(',');
  return async function publicCorsMiddleware(c, next) {
    if (c.req.method === 'OPTIONS') return preflight(c, next);
    await next();
    // A simple request gets the two headers Hono's cors gives it with `origin: '*'` (Fetch standard §3.2.3), set on
    // the final response. Hono's cors sets them *before* the handler, on a placeholder Response that Hono then copies
    // into the handler's: one extra Response and header copy per request, 14 % of a JWKS request's CPU time
    // (issue 17, `PROFILE=1 node bench/profile.mjs jwks`). Errors rendered by app.onError pass here too.
    try {
      c.res.headers.set('Access-Control-Allow-Origin', '*');
      c.res.headers.set('Access-Control-Expose-Headers', exposed);
    } catch {
      // An immutable response (one passed through from fetch): copy it once.
      const res = new Response(c.res.body, c.res);
      res.headers.set('Access-Control-Allow-Origin', '*');
      res.headers.set('Access-Control-Expose-Headers', exposed);
      c.res = undefined;
      c.res = res;
    }
  };
}
