/**
 * RFC 9728 OAuth 2.0 Protected Resource Metadata: the document a resource publishes about itself, so that a
 * client holding nothing but the resource's URL (an MCP client, for one) can find the authorization server.
 */

/** RFC 9728 §3: the well-known URI suffix. */
export const PROTECTED_RESOURCE_WELL_KNOWN = '/.well-known/oauth-protected-resource';

/**
 * RFC 9728 §1.2: the resource identifier is an https URL (http only on loopback, for development) with no
 * fragment. Refused at start-up, so a typo is a thrown error rather than a document clients cannot use.
 */
export function checkResourceIdentifier(resource: string, what = 'resource'): URL {
  let url: URL;
  try {
    url = new URL(resource);
  } catch {
    throw new TypeError(`${what} must be an absolute URL, got ${JSON.stringify(resource)}`);
  }
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  if (!(url.protocol === 'https:' || (url.protocol === 'http:' && loopback))) {
    throw new TypeError(`${what} must be an https URL (http only for localhost), got ${JSON.stringify(resource)}`);
  }
  if (url.hash || resource.includes('#')) throw new TypeError(`${what} must not have a fragment (RFC 9728 §1.2)`);
  return url;
}

/**
 * RFC 9728 §3.1: the metadata URL is the resource's origin, then the well-known suffix, then the resource's path
 * (a terminating "/" removed) and query. `https://api.example.com/v1` → `https://api.example.com/.well-known/oauth-protected-resource/v1`.
 */
export function resourceMetadataUrl(resource: string): string {
  const url = checkResourceIdentifier(resource);
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
  return `${url.origin}${PROTECTED_RESOURCE_WELL_KNOWN}${path}${url.search}`;
}

export interface ProtectedResourceMetadataOptions {
  /** RFC 9728 §2 `resource`: this resource's identifier, the `aud` of the tokens it accepts. */
  resource: string;
  /** §2 `authorization_servers`: issuer identifiers (RFC 8414) of the servers whose tokens are accepted. */
  authorizationServers: string[];
  /** §2 `scopes_supported`: the scopes a client may request for this resource. */
  scopesSupported?: string[];
  /** §2 `bearer_methods_supported`; defaults to ["header"] (add "query" if a route takes `?access_token=`). */
  bearerMethodsSupported?: ('header' | 'body' | 'query')[];
  /** §2 `resource_name`, shown to end users. */
  resourceName?: string;
  /** §2 `resource_documentation`, a URL for developers. */
  resourceDocumentation?: string;
  /** §2 `resource_policy_uri` and `resource_tos_uri`. */
  resourcePolicyUri?: string;
  resourceTosUri?: string;
  /** Any further registered members (§2, IANA registry), copied as given. */
  extra?: Record<string, unknown>;
}

/** The RFC 9728 §2 JSON document (member names as on the wire). */
export type ProtectedResourceMetadata = Record<string, unknown> & {
  resource: string;
  authorization_servers: string[];
  bearer_methods_supported: string[];
};

export function protectedResourceMetadata(options: ProtectedResourceMetadataOptions): ProtectedResourceMetadata {
  checkResourceIdentifier(options.resource);
  if (options.authorizationServers.length === 0)
    throw new TypeError('authorizationServers must name at least one issuer');
  const doc: ProtectedResourceMetadata = {
    ...options.extra,
    resource: options.resource,
    authorization_servers: [...options.authorizationServers],
    bearer_methods_supported: options.bearerMethodsSupported ?? ['header'],
  };
  if (options.scopesSupported) doc.scopes_supported = [...options.scopesSupported];
  if (options.resourceName) doc.resource_name = options.resourceName;
  if (options.resourceDocumentation) doc.resource_documentation = options.resourceDocumentation;
  if (options.resourcePolicyUri) doc.resource_policy_uri = options.resourcePolicyUri;
  if (options.resourceTosUri) doc.resource_tos_uri = options.resourceTosUri;
  return doc;
}

/** The path part of the metadata URL, for routing: `/.well-known/oauth-protected-resource/v1`. */
export function resourceMetadataPath(resource: string): string {
  const url = new URL(resourceMetadataUrl(resource));
  return url.pathname;
}

/**
 * Answers a GET (or HEAD) for the metadata document, or returns null when `request` is for another path, so a
 * plain fetch handler can call it first. RFC 9728 §3.2: 200 with `application/json`. The document is public and
 * changes rarely, so it may be cached.
 */
export function serveProtectedResourceMetadata(
  request: Request,
  metadata: ProtectedResourceMetadata,
  maxAge = 300,
): Response | null {
  if (new URL(request.url).pathname !== resourceMetadataPath(metadata.resource)) return null;
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    return new Response(null, { status: 405, headers: { Allow: 'GET, HEAD' } });
  }
  return new Response(request.method === 'HEAD' ? null : JSON.stringify(metadata), {
    status: 200,
    headers: {
      'Content-Type': 'application/json',
      'Cache-Control': `public, max-age=${maxAge}`,
      'Access-Control-Allow-Origin': '*',
    },
  });
}
