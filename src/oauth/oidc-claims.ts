/**
 * Which user claims a token's scopes and claims request release (OpenID Connect Core §5.4, §5.5). No I/O.
 */

import type { ClaimsRequest } from './oidc-request';
import type { ClaimsUser } from './user-profile';

/** Core §5.4: the claims each scope stands for. */
export const SCOPE_CLAIMS: Record<'profile' | 'email', readonly string[]> = {
  profile: ['name', 'given_name', 'family_name', 'picture', 'locale', 'updated_at'],
  email: ['email', 'email_verified'],
};

/** Every claim this server can release (discovery's claims_supported). */
export const CLAIMS_SUPPORTED = [
  'sub',
  'iss',
  'aud',
  'exp',
  'iat',
  'auth_time',
  'nonce',
  'azp',
  'at_hash',
  'sid',
  ...SCOPE_CLAIMS.profile,
  ...SCOPE_CLAIMS.email,
];

/** The value of one user claim, or undefined when the user has none. */
function claimValue(user: ClaimsUser, name: string): unknown {
  switch (name) {
    case 'email':
      return user.email;
    case 'email_verified':
      return user.profile.email_verified;
    case 'updated_at':
      return user.updatedAt;
    case 'name':
    case 'given_name':
    case 'family_name':
    case 'picture':
    case 'locale':
      return user.profile[name] ?? undefined;
    default:
      return undefined;
  }
}

/**
 * The claims to release: those of the granted scopes (`profile`, `email`) plus those named in `requested` (a claims
 * request member, Core §5.5: `essential` ones are returned when we have them; unknown ones are ignored, §5.5.1).
 * Claims without a value are left out (Core §5.3.2).
 */
export function userClaims(
  user: ClaimsUser,
  scopes: readonly string[],
  requested?: Record<string, unknown> | undefined,
): Record<string, unknown> {
  const names = new Set<string>();
  for (const s of ['profile', 'email'] as const) if (scopes.includes(s)) for (const c of SCOPE_CLAIMS[s]) names.add(c);
  for (const c of Object.keys(requested ?? {})) names.add(c);
  const out: Record<string, unknown> = {};
  for (const name of names) {
    const v = claimValue(user, name);
    if (v !== undefined && v !== null) out[name] = v;
  }
  return out;
}

/** The scopes whose claims a claims request names (Core §5.5 → §5.4), in either member. */
export function claimsRequestScopes(request: ClaimsRequest | null): ('profile' | 'email')[] {
  if (!request) return [];
  const names = [...Object.keys(request.userinfo ?? {}), ...Object.keys(request.id_token ?? {})];
  return (['profile', 'email'] as const).filter((s) => SCOPE_CLAIMS[s].some((c) => names.includes(c)));
}

export type { ClaimsRequest };
