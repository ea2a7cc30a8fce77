/**
 * The scopes of the Creads Partners API (seeds 000 and 002), and the rules on them.
 * - base: read and modify resources and files; never to be exposed to a browser.
 * - files: only read images and files (safe to put in an <img src> URL).
 * - upload_files: only upload files.
 * And the OpenID Connect scopes (Core §3.1.2.1, §5.4, §11): openid, profile, email, offline_access. They are the
 * user's identity, not API rights: any client of the code flow may ask for them (the user decides on the consent
 * page); they are not registered per client (SCOPES, the forms and client metadata, list only the API's).
 */
import { OAuthError } from '../lib/errors';

/** The API's scopes: what a client is registered for. */
export const SCOPES = ['base', 'files', 'upload_files'] as const;
/** OpenID Connect scopes, open to every client of the authorization-code flow. */
export const OIDC_SCOPES = ['openid', 'profile', 'email', 'offline_access'] as const;
/** Every scope a request may name, in canonical order (discovery's scopes_supported). */
export const ALL_SCOPES = [...SCOPES, ...OIDC_SCOPES] as const;
export type ApiScope = (typeof SCOPES)[number];
export type OidcScope = (typeof OIDC_SCOPES)[number];
export type Scope = ApiScope | OidcScope;
export const DEFAULT_SCOPE: Scope = 'base';

/** Plain-words description for consent pages and discovery docs. */
export const SCOPE_DESCRIPTIONS: Record<Scope, string> = {
  base: 'Read and change your resources and files, as you can yourself',
  files: 'Only view your images and files',
  upload_files: 'Only upload files for you',
  openid: 'Know who you are on this server (an identifier for your account)',
  profile: 'See your name, profile picture and language',
  email: 'See your email address and whether it is verified',
  offline_access: 'Stay connected when you are not using it (until you withdraw access)',
};

const BITS: Record<Scope, number> = {
  base: 1,
  files: 2,
  upload_files: 4,
  openid: 8,
  profile: 16,
  email: 32,
  offline_access: 64,
};

export function isScope(value: string): value is Scope {
  return (ALL_SCOPES as readonly string[]).includes(value);
}

export function isOidcScope(value: string): value is OidcScope {
  return (OIDC_SCOPES as readonly string[]).includes(value);
}

/**
 * RFC 6749 §3.3: a space-delimited, order-free list. Returns the canonical (sorted, de-duplicated)
 * list, or throws invalid_scope. Absent or empty means the default scope `base` (seed 000).
 */
export function parseScope(raw: string | undefined): Scope[] {
  if (raw === undefined || raw.trim() === '') return [DEFAULT_SCOPE];
  const parts = raw.split(' ').filter((s) => s !== '');
  if (parts.length > ALL_SCOPES.length * 2 || raw.length > 200) {
    throw new OAuthError('invalid_scope', 'The scope parameter is too long.');
  }
  const out = new Set<Scope>();
  for (const p of parts) {
    if (!isScope(p)) {
      throw new OAuthError(
        'invalid_scope',
        `The scope "${p.slice(0, 40)}" is unknown; the valid scopes are ${ALL_SCOPES.join(', ')}.`,
      );
    }
    out.add(p);
  }
  return ALL_SCOPES.filter((s) => out.has(s));
}

/** Scopes as a bit mask, so the refresh grant can test "subset of" inside one SQL statement. */
export function scopeMask(scopes: readonly Scope[]): number {
  return scopes.reduce((m, s) => m | BITS[s], 0);
}

/** The mask of the /v1 scopes among `scopes` (another resource server's scopes have no bit; issue 13). */
export function maskOf(scopes: readonly string[]): number {
  return scopeMask(scopes.filter(isScope));
}

export function formatScope(scopes: readonly Scope[]): string {
  return ALL_SCOPES.filter((s) => scopes.includes(s)).join(' ');
}

/** Throws invalid_scope unless every requested scope is in `allowed`. */
export function assertScopesAllowed(requested: readonly Scope[], allowed: readonly string[], who: string): void {
  const denied = requested.filter((s) => !allowed.includes(s));
  if (denied.length > 0) {
    throw new OAuthError('invalid_scope', `The scope "${denied.join(' ')}" is not allowed for ${who}.`);
  }
}
