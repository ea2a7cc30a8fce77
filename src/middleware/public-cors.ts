/**
 * CORS for the endpoints a browser-based agent calls directly (issue 13): the metadata documents (RFC 8414, RFC
 * 9728), the JWKS, the token, registration and revocation endpoints. Hono's `cors` with `*`: none of these reads a
 * cookie, so a page on any origin gains nothing it could not do from a server, and `Access-Control-Allow-Credentials`
 * is never sent (with `*` browsers would refuse it anyway, Fetch standard §3.2.5). Preflight (`OPTIONS`) is
 * answered here, with the headers the MCP SDK sends. Not on the pages (/login, /oauth2/authorize, /apps), the admin
 * API or /v1: they use cookies or are not for browsers. Introspection neither: RFC 7662 §2.1 expects a protected
 * resource calling from its server, with client credentials no browser may hold.
 */
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

export function publicCors() {
  return cors({
    origin: '*',
    allowMethods: ['GET', 'POST', 'PUT', 'DELETE', 'OPTIONS'],
    allowHeaders: ['Authorization', 'Content-Type', 'MCP-Protocol-Version'],
    // A browser client must be able to read the challenge and the back-off of an error.
    exposeHeaders: ['WWW-Authenticate', 'Retry-After'],
    maxAge: 86_400,
    credentials: false,
  });
}
