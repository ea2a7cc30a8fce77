/**
 * First middleware: a request id, the validated config, and one single-line JSON log per request.
 * The log holds the path without the query string, which may carry an access token (RFC 6750 §2.3).
 */
import type { MiddlewareHandler } from 'hono';
import { getConfig } from '../config';
import type { AppEnv } from '../types';

export function requestContext(): MiddlewareHandler<AppEnv> {
  return async function requestContextMiddleware(c, next) {
    const started = Date.now();
    const incoming = c.req.header('cf-ray') ?? c.req.header('x-request-id');
    const requestId = incoming && /^[\w-]{1,64}$/.test(incoming) ? incoming : crypto.randomUUID();
    c.set('requestId', requestId);
    try {
      c.set('config', getConfig(c.env));
      await next();
    } finally {
      c.header('X-Request-Id', requestId);
      console.log(JSON.stringify({ level: 'info', requestId, method: c.req.method, path: new URL(c.req.url).pathname.slice(0, 200), status: c.res.status, ms: Date.now() - started }));
    }
  };
}
