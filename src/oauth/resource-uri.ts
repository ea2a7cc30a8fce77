/**
 * The canonical form of a resource indicator (RFC 8707 §2, RFC 9728 §1.2), one pure rule used by the registry
 * (what an administrator registers), the authorization and token endpoints (what a client sends) and the
 * protected-resource metadata. Two spellings of the same resource must compare equal, and nothing else may.
 *
 * - An absolute URI (RFC 8707 §2: "MUST be an absolute URI"): `https`, or `http` only for a loopback host
 *   (localhost, 127.0.0.1, [::1]) in development, as the issuer (src/config.ts).
 * - No fragment (RFC 8707 §2 "MUST NOT include a fragment component"), not even an empty `#`.
 * - No query: RFC 8707 §2 says it SHOULD NOT have one; refusing it removes the ordering and encoding ambiguity.
 * - No userinfo (`user:pass@`): never part of a resource's identity, and a phishing trick in a consent page.
 * - Scheme and host lowercase, the default port removed, `.` and `..` segments resolved (the WHATWG URL parser).
 * - The path without a trailing slash: `https://mcp.example.com`, `https://mcp.example.com/` are the same, and so
 *   are `https://api.example.com/v1` and `https://api.example.com/v1/` — an ambiguity MCP clients hit, since they
 *   derive the resource from the URL they were given (MCP authorization, "Canonical Server URI"). The canonical
 *   text is `origin` + path, e.g. `https://mcp.example.com` and `https://api.example.com/v1`.
 * - Otherwise exact: the path is case-sensitive and percent-encoding is kept as the parser leaves it.
 */

/** Far above any real resource URI; longer values are refused before parsing. */
export const MAX_RESOURCE_URI_LENGTH = 512;

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

export type ResourceUriResult = { ok: true; uri: string } | { ok: false; reason: string };

/** The canonical text of `raw`, or why it is not a usable resource indicator (a sentence for error_description). */
export function canonicalResourceUri(raw: string): ResourceUriResult {
  if (raw.length > MAX_RESOURCE_URI_LENGTH) return { ok: false, reason: 'is too long' };
  if (raw.includes('#')) return { ok: false, reason: 'must not have a fragment (RFC 8707 §2)' };
  // A control character or space would be percent-encoded silently by the parser: refused instead.
  if ([...raw].some((ch) => ch <= ' ' || ch === '\x7f'))
    return { ok: false, reason: 'must not contain spaces or control characters' };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: 'must be an absolute URI (RFC 8707 §2)' };
  }
  if (!(url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK.has(url.hostname)))) {
    return { ok: false, reason: 'must be an https URI (http only for localhost)' };
  }
  if (url.search || raw.includes('?')) return { ok: false, reason: 'must not have a query' };
  if (url.username || url.password) return { ok: false, reason: 'must not contain a user name or password' };
  const path = url.pathname.replace(/\/+$/, '');
  return { ok: true, uri: `${url.origin}${path}` };
}

/** Whether `raw` is already in canonical form (what the registry stores). */
export function isCanonicalResourceUri(raw: string): boolean {
  const r = canonicalResourceUri(raw);
  return r.ok && r.uri === raw;
}
