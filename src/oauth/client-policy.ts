/**
 * The client policy fields only an operator sets (issue 11): `refresh_token_policy` and `require_pkce`, validated in
 * one place for the admin API (src/routes/admin/clients.ts) and dynamic registration (src/routes/register.ts).
 * Pure rules, no I/O. Errors are RFC 7591 §3.2.2 invalid_client_metadata, one sentence each.
 *
 * - `refresh_token_policy`: `rotate` (default) or `reuse`. RFC 9700 §4.14.2 requires a public client's refresh tokens
 *   to be rotated (or sender-constrained, which we do not offer); a confidential client's refresh token is bound to
 *   the client and useless without its secret (RFC 6749 §6, "the client MUST authenticate"), so it may be reused.
 * - `require_pkce`: `false` lets a confidential client use the code flow without PKCE (seed 003). A public client has
 *   no other protection against code interception, so it always uses PKCE (RFC 7636 §1, RFC 9700 §2.1.1).
 * - Dynamic registration (anyone holding an initial access token) keeps the defaults: neither field can be relaxed
 *   there; an administrator relaxes them for a client that needs it.
 */
import * as v from 'valibot';
import { OAuthError } from '../lib/errors';
import type { RefreshTokenPolicy } from './client';

export const REFRESH_TOKEN_POLICIES = ['rotate', 'reuse'] as const satisfies readonly RefreshTokenPolicy[];

const PolicySchema = v.object({
  refresh_token_policy: v.optional(
    v.picklist(REFRESH_TOKEN_POLICIES, '"refresh_token_policy" must be "rotate" or "reuse".'),
  ),
  require_pkce: v.optional(v.boolean('"require_pkce" must be true or false.')),
});

/** The policy fields a request sets (absent ones are left out, so an update keeps the stored value). */
export interface ClientPolicy {
  refreshTokenPolicy?: RefreshTokenPolicy;
  requirePkce?: boolean;
}

function bad(description: string): OAuthError {
  return new OAuthError('invalid_client_metadata', description);
}

/**
 * Validates the policy fields of a client metadata object (other fields are ignored here).
 * `via: 'registration'` (RFC 7591/7592) refuses any relaxation; `via: 'admin'` refuses it for a public client only.
 */
export function validateClientPolicy(
  input: Record<string, unknown>,
  options: { confidential: boolean; via: 'admin' | 'registration' },
): ClientPolicy {
  const parsed = v.safeParse(PolicySchema, input);
  if (!parsed.success) throw bad(parsed.issues[0].message);
  const { refresh_token_policy: refreshTokenPolicy, require_pkce: requirePkce } = parsed.output;
  if (options.via === 'registration') {
    if (refreshTokenPolicy === 'reuse') {
      throw bad(
        'Dynamic registration cannot choose refresh_token_policy "reuse": refresh tokens rotate (RFC 9700 §4.14.2); ask the administrator.',
      );
    }
    if (requirePkce === false) {
      throw bad('Dynamic registration cannot turn off PKCE ("require_pkce": false); ask the administrator.');
    }
    return {}; // the defaults: rotate, PKCE required
  }
  if (!options.confidential && refreshTokenPolicy === 'reuse') {
    throw bad(
      'A public client cannot have refresh_token_policy "reuse": its refresh tokens always rotate (RFC 9700 §4.14.2).',
    );
  }
  if (!options.confidential && requirePkce === false) {
    throw bad(
      'A public client cannot turn off PKCE: without a secret, PKCE is what protects its authorization codes (RFC 7636 §1).',
    );
  }
  return {
    ...(refreshTokenPolicy !== undefined ? { refreshTokenPolicy } : {}),
    ...(requirePkce !== undefined ? { requirePkce } : {}),
  };
}
