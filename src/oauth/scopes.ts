/**
 * The scopes of the Creads Partners API (seeds 000 and 002), and the rules on them.
 * - base: read and modify resources and files; never to be exposed to a browser.
 * - files: only read images and files (safe to put in an <img src> URL).
 * - upload_files: only upload files.
 */
import { OAuthError } from '../lib/errors';

export const SCOPES = ['base', 'files', 'upload_files'] as const;
export type Scope = (typeof SCOPES)[number];
export const DEFAULT_SCOPE: Scope = 'base';

/** Plain-words description for consent pages and discovery docs. */
export const SCOPE_DESCRIPTIONS: Record<Scope, string> = {
  base: 'Read and change your resources and files, as you can yourself',
  files: 'Only view your images and files',
  upload_files: 'Only upload files for you',
};

const BITS: Record<Scope, number> = { base: 1, files: 2, upload_files: 4 };

export function isScope(value: string): value is Scope {
  return (SCOPES as readonly string[]).includes(value);
}

/**
 * RFC 6749 §3.3: a space-delimited, order-free list. Returns the canonical (sorted, de-duplicated)
 * list, or throws invalid_scope. Absent or empty means the default scope `base` (seed 000).
 */
export function parseScope(raw: string | undefined): Scope[] {
  if (raw === undefined || raw.trim() === '') return [DEFAULT_SCOPE];
  const parts = raw.split(' ').filter((s) => s !== '');
  if (parts.length > SCOPES.length * 2 || raw.length > 200) {
    throw new OAuthError('invalid_scope', 'The scope parameter is too long.');
  }
  const out = new Set<Scope>();
  for (const p of parts) {
    if (!isScope(p)) {
      throw new OAuthError(
        'invalid_scope',
        `The scope "${p.slice(0, 40)}" is unknown; the valid scopes are ${SCOPES.join(', ')}.`,
      );
    }
    out.add(p);
  }
  return SCOPES.filter((s) => out.has(s));
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
  return SCOPES.filter((s) => scopes.includes(s)).join(' ');
}

/** Throws invalid_scope unless every requested scope is in `allowed`. */
export function assertScopesAllowed(requested: readonly Scope[], allowed: readonly string[], who: string): void {
  const denied = requested.filter((s) => !allowed.includes(s));
  if (denied.length > 0) {
    throw new OAuthError('invalid_scope', `The scope "${denied.join(' ')}" is not allowed for ${who}.`);
  }
}
