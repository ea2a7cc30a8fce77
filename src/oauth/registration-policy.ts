/**
 * Issue 13: what a registration without an initial access token may ask for, under the operator's REGISTRATION_POLICY
 * (src/config.ts). Pure rules, no I/O; errors are RFC 7591 §3.2.2 `invalid_client_metadata`, one sentence each.
 *
 * - `initial-token` (default): nothing without an initial access token (RFC 7591 §3: the server may require one).
 * - `open-public`: a public client (`token_endpoint_auth_method` `none`, the default when it is absent) for the code
 *   flow: `authorization_code` and `refresh_token` only; PKCE is always required of a public client
 *   (src/services/authorization-request.ts, src/oauth/client-policy.ts), and its refresh tokens always rotate.
 * - `open`: also a confidential client, but never the `client_credentials` or `password` grant: a client anyone can
 *   create must act for a signed-in user who approved it, never on its own (RFC 9700 §2.4, §4.15 on open
 *   registration; RFC 7591 §5).
 * With an initial access token, the rules of an administrator-approved registration apply as before, whatever the
 * policy. Per-IP rate limiting of open registration is the Rate Limiting binding's job (docs/mcp.md).
 */
import type { RegistrationPolicy } from '../config';
import { OAuthError } from '../lib/errors';
import type { ValidatedClientMetadata } from './client-metadata';

/** Grants a client registered without an initial access token may hold. */
export const OPEN_GRANTS = ['authorization_code', 'refresh_token'] as const;

/** The default token_endpoint_auth_method for a registration without an initial access token under `policy`. */
export function openDefaultAuthMethod(policy: RegistrationPolicy): 'none' | undefined {
  return policy === 'open-public' ? 'none' : undefined;
}

/** Throws unless `m` may be registered without an initial access token under `policy` (not `initial-token`). */
export function assertOpenRegistration(
  policy: Exclude<RegistrationPolicy, 'initial-token'>,
  m: ValidatedClientMetadata,
) {
  if (policy === 'open-public' && m.confidential) {
    throw new OAuthError(
      'invalid_client_metadata',
      'Without an initial access token only public clients can register here: use token_endpoint_auth_method "none" with PKCE.',
    );
  }
  const other = m.grantTypes.find((g) => !(OPEN_GRANTS as readonly string[]).includes(g));
  if (other) {
    throw new OAuthError(
      'invalid_client_metadata',
      `Without an initial access token a client can only use the authorization_code and refresh_token grants, not "${other}".`,
    );
  }
}
