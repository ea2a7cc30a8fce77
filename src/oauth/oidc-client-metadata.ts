/**
 * OpenID Connect client metadata (Dynamic Client Registration 1.0 §2), shared by RFC 7591 registration and the admin
 * API. Pure rules, no I/O (the sector_identifier_uri document is fetched by src/services/sector-identifier.ts).
 * Accepted: id_token_signed_response_alg, subject_type, sector_identifier_uri, post_logout_redirect_uris,
 * default_max_age, require_auth_time, application_type. Refused clearly: the request-object, encryption and
 * UserInfo-signing members (this server does not support them), rather than silently ignored.
 */
import { OAuthError } from '../lib/errors';
import type { OidcClientMetadata } from './client';
import { validateRedirectUri } from './redirect-uri';

/** What the ring can sign ID tokens with (Core §15.1: RS256 mandatory); PS256 is not offered. */
export const ID_TOKEN_ALGS = ['RS256', 'ES256', 'EdDSA'] as const;

/** Members we understand but do not support: refused with a reason instead of ignored (Registration §2). */
const UNSUPPORTED = [
  'id_token_encrypted_response_alg',
  'id_token_encrypted_response_enc',
  'userinfo_signed_response_alg',
  'userinfo_encrypted_response_alg',
  'userinfo_encrypted_response_enc',
  'request_object_signing_alg',
  'request_object_encryption_alg',
  'request_object_encryption_enc',
  'request_uris',
  'default_acr_values',
  'initiate_login_uri',
] as const;

const bad = (description: string) => new OAuthError('invalid_client_metadata', description);

/** Validates the OIDC members of `input` (absent members stay absent). */
export function validateOidcMetadata(input: Record<string, unknown>, redirectUris: string[]): OidcClientMetadata {
  for (const name of UNSUPPORTED) {
    if (input[name] !== undefined && input[name] !== null)
      throw bad(`"${name}" is not supported by this server; remove it (see the discovery document).`);
  }
  const out: OidcClientMetadata = {};
  const alg = input.id_token_signed_response_alg;
  if (alg !== undefined && alg !== null) {
    if (!(ID_TOKEN_ALGS as readonly unknown[]).includes(alg))
      throw bad(`"id_token_signed_response_alg" must be one of: ${ID_TOKEN_ALGS.join(', ')}.`);
    out.id_token_signed_response_alg = alg as OidcClientMetadata['id_token_signed_response_alg'];
  }
  const subjectType = input.subject_type;
  if (subjectType !== undefined && subjectType !== null) {
    if (subjectType !== 'public' && subjectType !== 'pairwise')
      throw bad('"subject_type" must be "public" or "pairwise".');
    out.subject_type = subjectType;
  }
  const sector = input.sector_identifier_uri;
  if (sector !== undefined && sector !== null) {
    if (typeof sector !== 'string' || sector.length > 2000 || !isHttps(sector))
      throw bad('"sector_identifier_uri" must be an https URL.');
    out.sector_identifier_uri = sector;
  }
  // Core §8.1: without a sector_identifier_uri, the pairwise sector is the redirect URIs' host, so they must share one.
  if (out.subject_type === 'pairwise' && !out.sector_identifier_uri) {
    const hosts = new Set(redirectUris.map((u) => safeHost(u)));
    if (hosts.size > 1)
      throw bad('A pairwise client whose redirect URIs are on several hosts needs a "sector_identifier_uri".');
  }
  const logout = input.post_logout_redirect_uris;
  if (logout !== undefined && logout !== null) {
    if (!Array.isArray(logout) || logout.length > 10 || logout.some((u) => typeof u !== 'string'))
      throw bad('"post_logout_redirect_uris" must be an array of at most 10 URLs.');
    out.post_logout_redirect_uris = (logout as string[]).map((u) => {
      // The same rules as redirect URIs (exact match later, no fragments, WHATWG-serialized form).
      const problem = validateRedirectUri(u);
      if (problem) throw new OAuthError('invalid_redirect_uri', `post_logout_redirect_uris: ${problem}`);
      return u;
    });
  }
  const maxAge = input.default_max_age;
  if (maxAge !== undefined && maxAge !== null) {
    if (typeof maxAge !== 'number' || !Number.isInteger(maxAge) || maxAge < 0 || maxAge > 31_536_000)
      throw bad('"default_max_age" must be a whole number of seconds (0 to 31536000).');
    out.default_max_age = maxAge;
  }
  const requireAuthTime = input.require_auth_time;
  if (requireAuthTime !== undefined && requireAuthTime !== null) {
    if (typeof requireAuthTime !== 'boolean') throw bad('"require_auth_time" must be true or false.');
    out.require_auth_time = requireAuthTime;
  }
  const appType = input.application_type;
  if (appType !== undefined && appType !== null) {
    if (appType !== 'web' && appType !== 'native') throw bad('"application_type" must be "web" or "native".');
    out.application_type = appType;
  }
  return out;
}

function isHttps(u: string): boolean {
  try {
    return new URL(u).protocol === 'https:';
  } catch {
    return false;
  }
}

function safeHost(u: string): string {
  try {
    return new URL(u).host;
  } catch {
    return u;
  }
}
