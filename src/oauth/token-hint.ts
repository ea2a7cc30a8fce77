/**
 * Which kind of our tokens a presented string can be, for revocation (RFC 7009 §2.1) and introspection
 * (RFC 7662 §2.1). Access tokens are compact JWS (three base64url parts joined by dots); refresh tokens are
 * opaque base64url strings with no dot. The shape decides, so `token_type_hint` is accepted and needs no
 * honouring: a wrong hint still finds the token (RFC 7009 §2.1 "extend its search"), and since we can revoke
 * every type we issue, unsupported_token_type (RFC 7009 §2.2.1) is never returned.
 */
export type TokenKind = 'access_token' | 'refresh_token';

export function tokenKind(token: string): TokenKind {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(token) ? 'access_token' : 'refresh_token';
}
