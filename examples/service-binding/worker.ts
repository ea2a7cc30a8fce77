/**
 * A resource-server Worker protected by the authorization server through a service binding (issue 14 part 1,
 * docs/resource-servers.md). Serves its RFC 9728 metadata (§3.1 path) and answers every other request with the
 * verified caller, or with the RFC 6750 §3 refusal the binding built. Tested in test/service-binding/.
 */
import type { TokenVerifier } from '../../src/rpc/token-verifier';

export interface ExampleEnv {
  AUTH: Service<TokenVerifier>;
  /** This API's resource identifier (RFC 9728 §2 `resource`); today the server's ACCESS_TOKEN_AUDIENCE. */
  RESOURCE: string;
}

export default {
  async fetch(request: Request, env: ExampleEnv): Promise<Response> {
    const meta = await env.AUTH.metadata({ resource: env.RESOURCE, scopesSupported: ['base'] });
    if (new URL(request.url).pathname === new URL(meta.url).pathname) return Response.json(meta.document);
    const r = await env.AUTH.verifyRequest(request, {
      scopes: ['base'],
      audience: env.RESOURCE,
      resourceMetadata: meta.url,
    });
    if (r.ok) return Response.json({ hello: r.claims.sub, scopes: r.scopes });
    const headers: Record<string, string> =
      'challenge' in r ? { 'WWW-Authenticate': r.challenge } : { 'Retry-After': String(r.retryAfter) };
    return Response.json(
      { error: r.error, error_description: r.description },
      { status: r.status, headers: { ...headers, 'Cache-Control': 'no-store' } },
    );
  },
};
