/** The grant types this server supports (RFC 6749 §4, §6). The implicit grant is not offered (RFC 9700 §2.1.2). */
export const GRANT_TYPES = ['authorization_code', 'client_credentials', 'password', 'refresh_token'] as const;
export type GrantType = (typeof GRANT_TYPES)[number];

export function isGrantType(value: string): value is GrantType {
  return (GRANT_TYPES as readonly string[]).includes(value);
}
