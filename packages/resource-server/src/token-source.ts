/**
 * Where a token may come from (RFC 6750 §2), with the authorization server's rules (src/files/access.ts there):
 * the Authorization header always; the `access_token` URL query parameter only where the route allows it; a
 * token in both, or a repeated parameter, is invalid_request (§2: "Clients MUST NOT use more than one method").
 * Form-encoded body tokens (§2.2) are not read: reading a body here would consume it before the route does.
 */

export type TokenSource =
  | { kind: 'token'; token: string; fromQuery: boolean }
  | { kind: 'missing' }
  | { kind: 'malformed'; description: string };

/** RFC 6750 §2.1 `b64token`, with any number of spaces after the scheme as the authorization server accepts. */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

export function tokenFromRequest(request: Request, options: { allowQueryToken?: boolean } = {}): TokenSource {
  const header = request.headers.get('Authorization');
  let fromHeader: string | null = null;
  if (header) {
    const m = BEARER.exec(header);
    if (m) fromHeader = m[1];
    // Another scheme (Basic, DPoP, …) is not ours to judge: treated as no bearer token.
    else if (/^bearer\b/i.test(header))
      return { kind: 'malformed', description: 'The Authorization header must be "Bearer <token>".' };
  }
  if (options.allowQueryToken) {
    const fromQuery = new URL(request.url).searchParams.getAll('access_token');
    if (fromQuery.length > 1) return { kind: 'malformed', description: 'The access_token parameter is repeated.' };
    if (fromHeader && fromQuery.length === 1) {
      return {
        kind: 'malformed',
        description:
          'Send the access token either in the Authorization header or in the access_token parameter, not both.',
      };
    }
    if (!fromHeader && fromQuery.length === 1 && fromQuery[0] !== '')
      return { kind: 'token', token: fromQuery[0], fromQuery: true };
  }
  return fromHeader ? { kind: 'token', token: fromHeader, fromQuery: false } : { kind: 'missing' };
}
