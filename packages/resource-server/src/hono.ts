/**
 * Hono middleware over the verifier: a refusal becomes its RFC 6750 answer (status, JSON body, challenge), a
 * verified token becomes typed context variables. Hono is an optional peer dependency, needed only here.
 */
import type { Env, Handler, Hono, MiddlewareHandler } from 'hono';
import { type ProtectedResourceMetadata, resourceMetadataPath, serveProtectedResourceMetadata } from './metadata.js';
import { refusalResponse } from './refusal.js';
import {
  type AccessTokenClaims,
  ResourceServerUnavailableError,
  type Verifier,
  type VerifyRequestOptions,
  type VerifyResult,
} from './verifier.js';

/** What the middleware sets: `c.get('accessToken')` (claims) and `c.get('accessTokenScopes')`. */
export interface AccessTokenVariables {
  accessToken: AccessTokenClaims;
  accessTokenScopes: string[];
}

/**
 * `app.use('/v1/*', requireAccessToken(verifier, { scopes: ['base'] }))`. A request without a valid token is
 * answered here and never reaches the route; when the authorization server's keys cannot be fetched the answer
 * is 503 (the token may be fine; retrying later helps), never a 500.
 */
export function requireAccessToken(
  verifier: Verifier,
  options: VerifyRequestOptions = {},
): MiddlewareHandler<{ Variables: AccessTokenVariables }> {
  return async function accessTokenMiddleware(c, next) {
    let result: VerifyResult;
    try {
      result = await verifier.verifyRequest(c.req.raw, options);
    } catch (err) {
      if (!(err instanceof ResourceServerUnavailableError)) throw err;
      return new Response(
        JSON.stringify({
          error: 'temporarily_unavailable',
          error_description: 'The token could not be checked; try again shortly.',
        }),
        {
          status: 503,
          headers: {
            'Content-Type': 'application/json;charset=UTF-8',
            'Cache-Control': 'no-store',
            'Retry-After': '5',
          },
        },
      );
    }
    if (!result.ok) return refusalResponse(result);
    c.set('accessToken', result.claims);
    c.set('accessTokenScopes', result.scopes);
    await next();
  };
}

/** A handler answering the RFC 9728 document (GET and HEAD). */
export function protectedResourceMetadataHandler(metadata: ProtectedResourceMetadata, maxAge = 300): Handler {
  return function protectedResourceMetadataRoute(c) {
    return serveProtectedResourceMetadata(c.req.raw, metadata, maxAge) ?? c.notFound();
  };
}

/** Mounts the document at its RFC 9728 §3.1 path (`/.well-known/oauth-protected-resource` plus the resource's path). */
export function mountProtectedResourceMetadata<E extends Env>(
  app: Hono<E>,
  metadata: ProtectedResourceMetadata,
  maxAge = 300,
): Hono<E> {
  app.on(['GET', 'HEAD'], resourceMetadataPath(metadata.resource), protectedResourceMetadataHandler(metadata, maxAge));
  return app;
}
