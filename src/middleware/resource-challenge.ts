/**
 * RFC 9728 §5.1: every `WWW-Authenticate: Bearer` challenge of our protected API (/v1) names the resource's
 * metadata URL as `resource_metadata`, so a client holding only the API's URL (an MCP client) can discover the
 * authorization server from a 401. Applied around /v1/*: it decorates whatever challenge the bearer middleware
 * or a route answered with (src/app.ts renders errors before this sees the response), and leaves other
 * responses, including the token endpoint's `Basic` challenge at /v1/oauth2/token, alone.
 */
import type { MiddlewareHandler } from 'hono';
import { resourceMetadataUrl } from '../../packages/resource-server/src/metadata.js';
import { getConfig } from '../config';
import type { AppEnv } from '../types';

/** Our /v1's metadata URL (RFC 9728 §3.1), or null when ACCESS_TOKEN_AUDIENCE is not an https URL. */
export function ownResourceMetadataUrl(audience: string): string | null {
  try {
    return resourceMetadataUrl(audience);
  } catch {
    return null;
  }
}

export function resourceChallenges(): MiddlewareHandler<AppEnv> {
  return async function resourceChallengeMiddleware(c, next) {
    await next();
    const challenge = c.res.headers.get('WWW-Authenticate');
    if (!challenge?.startsWith('Bearer') || challenge.includes('resource_metadata=')) return;
    const url = ownResourceMetadataUrl(getConfig(c.env).audience);
    if (!url) return;
    const res = new Response(c.res.body, c.res);
    res.headers.set('WWW-Authenticate', `${challenge}, resource_metadata="${url}"`);
    c.res = undefined;
    c.res = res;
  };
}
