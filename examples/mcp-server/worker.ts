/**
 * An MCP server (Streamable HTTP transport, stateless) protected by the authorization server (issue 14 part 3).
 * Tokens are verified through the service binding (`env.AUTH`, the product's TokenVerifier entrypoint) with
 * `resource` = this server's canonical URL; unauthenticated calls get 401 + `WWW-Authenticate: Bearer
 * resource_metadata=...` (RFC 9728 §5.1) and the RFC 9728 §3.1 document is served at its well-known path.
 * A tool whose scope the token lacks is 403 insufficient_scope (RFC 6750 §3.1). See README.md.
 */
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import type { CallerResult, TokenVerifier } from '../../src/rpc/token-verifier';
import { verifyLink } from './links';
import { buildServer, TOOL_SCOPES, type ToolEnv } from './tools';

export interface McpEnv extends ToolEnv {
  AUTH: Service<TokenVerifier>;
  /** This server's canonical URL (RFC 8707 / RFC 9728 `resource`), e.g. http://localhost:8788/mcp. */
  RESOURCE: string;
}

const ALL_SCOPES = [...new Set(Object.values(TOOL_SCOPES))];

/**
 * The scope sets a request must satisfy, each any-of (TokenVerifier's rule): a tools/call each named tool's scope,
 * anything else (initialize, tools/list) any one of ours.
 */
async function neededScopes(request: Request): Promise<string[][]> {
  if (request.method !== 'POST') return [ALL_SCOPES];
  try {
    const body = (await request.clone().json()) as unknown;
    const msgs = Array.isArray(body) ? body : [body];
    const needed = msgs
      .filter((m) => m?.method === 'tools/call')
      .map((m) => TOOL_SCOPES[String(m?.params?.name)])
      .filter((s): s is string => typeof s === 'string');
    return needed.length ? [...new Set(needed)].map((n) => [n]) : [ALL_SCOPES];
  } catch {
    return [ALL_SCOPES]; // the transport answers the JSON-RPC parse error itself
  }
}

function refusal(r: Exclude<CallerResult, { ok: true }>): Response {
  const headers: Record<string, string> =
    'challenge' in r ? { 'WWW-Authenticate': r.challenge } : { 'Retry-After': String(r.retryAfter) };
  return Response.json(
    { error: r.error, error_description: r.description },
    { status: r.status, headers: { ...headers, 'Cache-Control': 'no-store' } },
  );
}

export default {
  async fetch(request: Request, env: McpEnv): Promise<Response> {
    const url = new URL(request.url);
    const meta = await env.AUTH.metadata({ resource: env.RESOURCE, scopesSupported: ALL_SCOPES });
    if (url.pathname === new URL(meta.url).pathname) return Response.json(meta.document);

    if (url.pathname === '/link' && request.method === 'GET') {
      const key = await verifyLink(url, env.LINK_SECRET);
      const obj = key ? await env.FILES.get(key) : null;
      if (!obj) return new Response('Not found or expired.', { status: 404 });
      return new Response(obj.body, {
        headers: {
          'Content-Type': obj.httpMetadata?.contentType ?? 'application/octet-stream',
          'Cache-Control': 'private, max-age=60',
          'X-Content-Type-Options': 'nosniff',
        },
      });
    }

    if (url.pathname !== new URL(env.RESOURCE).pathname) return new Response('Not found.', { status: 404 });

    // Only the header and URL cross the binding (a Request's body and AbortSignal do not serialize, and need not).
    const req = { authorization: request.headers.get('Authorization'), url: request.url };
    let caller: { clientId: string; scopes: string[] } | undefined;
    for (const scope of await neededScopes(request)) {
      const r = await env.AUTH.verifyRequest(req, {
        scopes: scope,
        audience: env.RESOURCE,
        resourceMetadata: meta.url,
      });
      if (!r.ok) return refusal(r);
      caller = { clientId: String(r.claims.client_id), scopes: r.scopes };
    }
    if (!caller) return new Response('Not found.', { status: 404 });

    const server = buildServer(env, caller, url.origin);
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    await server.connect(transport);
    return transport.handleRequest(request);
  },
};
