/** The claims of our access tokens (RFC 9068 §2.2) and the clock rule every check of them shares. No I/O. */
import type { JWTPayload } from 'jose';

/** Allowed clock skew between edge locations, seconds. */
export const CLOCK_TOLERANCE = 30;
export interface AccessTokenClaims extends JWTPayload {
  iss: string;
  sub: string;
  client_id: string;
  scope: string;
  jti: string;
  iat: number;
  exp: number;
  /**
   * The grant (refresh-token family or code grant) the token was issued from, absent for client_credentials: revoking
   * the grant deny-lists its fid, which reaches every access token of it (issue 10 item 4, RFC 7009 §2.1).
   */
  fid?: string;
}

export function tokenScopes(claims: AccessTokenClaims): string[] {
  return claims.scope.split(' ').filter(Boolean);
}
