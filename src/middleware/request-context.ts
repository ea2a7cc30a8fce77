/**
 * First middleware: a request id, the validated config, and a single-line JSON access log.
 * Every failed request (status ≥ 400) is logged; successful ones are sampled at REQUEST_LOG_SAMPLE_RATE,
 * because a console line per request is the largest cost of a cheap request on workerd (docs/benchmarks.md)
 * and the platform already records every invocation (Workers Logs / Logpush, keyed by the cf-ray we reuse).
 * The log holds the path without the query string, which may carry an access token (RFC 6750 §2.3).
 */
import type { Context, MiddlewareHandler } from 'hono';
import { getConfig } from '../config';
import { guardStorage } from '../storage/unavailable';
import type { AppEnv } from '../types';

const REQUEST_ID = /^[\w-]{1,64}$/;

/**
 * Adds X-Request-Id to the final response. Hono's `c.header()` after the handler copies the whole Response to get
 * mutable headers, the largest single cost of a cheap request here (docs/benchmarks.md); our responses are built
 * by us and have mutable headers, so one set is enough. A Response with immutable headers (one returned by
 * `fetch()`) still gets the copy.
 */
function tagResponse(c: Context<AppEnv>, requestId: string): void {
  try {
    c.res.headers.set('X-Request-Id', requestId);
  } catch {
    c.header('X-Request-Id', requestId);
  }
}

export function requestContext(): MiddlewareHandler<AppEnv> {
  return async function requestContextMiddleware(c, next) {
    const started = Date.now();
    const incoming = c.req.header('cf-ray') ?? c.req.header('x-request-id');
    const requestId = incoming && REQUEST_ID.test(incoming) ? incoming : crypto.randomUUID();
    c.set('requestId', requestId);
    // Every D1/KV/R2 call of the request through the guard, so a storage failure answers 503 (src/storage/unavailable.ts).
    c.env = guardStorage(c.env);
    let sampleRate = 1; // until the config is known (a ConfigError is a 500, logged anyway)
    try {
      const config = getConfig(c.env);
      sampleRate = config.requestLogSampleRate;
      c.set('config', config);
      await next();
    } finally {
      tagResponse(c, requestId);
      const status = c.res.status;
      if (status >= 400 || (sampleRate > 0 && (sampleRate >= 1 || Math.random() < sampleRate))) {
        // c.req.path is Hono's already-parsed path (no query string): no second URL parse.
        console.log(
          JSON.stringify({
            level: 'info',
            requestId,
            method: c.req.method,
            path: c.req.path.slice(0, 200),
            status,
            ms: Date.now() - started,
          }),
        );
      }
    }
  };
}
