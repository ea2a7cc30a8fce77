/**
 * Client metadata validation shared by dynamic registration (RFC 7591 §2) and the admin API.
 * Pure rules, no I/O. Errors are RFC 7591 §3.2.2 invalid_redirect_uri / invalid_client_metadata.
 * Redirect URIs follow the same rules as the portal: src/oauth/redirect-uri.ts `validateRedirectUri`.
 */

import { OAuthError } from '../lib/errors';
import type { Client } from './client';
import { type GrantType, isGrantType } from './grant-types';
import { validateRedirectUri } from './redirect-uri';
import { parseScope, SCOPES, type Scope } from './scopes';

/** Grants a registered client may ask for; `password` only through the admin API (RFC 9700 §2.4). */
const REGISTRABLE_GRANTS = ['authorization_code', 'refresh_token', 'client_credentials'] as const;
const ADMIN_GRANTS = [...REGISTRABLE_GRANTS, 'password'] as const;
export const AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'none'] as const;
export type AuthMethod = (typeof AUTH_METHODS)[number];

/** Raw RFC 7591 §2 metadata as received (JSON), before validation. */
export type ClientMetadataInput = Record<string, unknown>;

export interface ValidatedClientMetadata {
  name: string;
  siteUrl: string | null;
  logoUrl: string | null;
  description: string | null;
  redirectUris: string[];
  grantTypes: GrantType[];
  scopes: Scope[];
  authMethod: AuthMethod;
  confidential: boolean;
}

const LOOPBACK = ['localhost', '127.0.0.1', '[::1]'];
const MAX_URI = 2000;

function bad(description: string): OAuthError {
  return new OAuthError('invalid_client_metadata', description);
}

function optionalString(input: ClientMetadataInput, field: string, max: number): string | null {
  const v = input[field];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string' || v.length === 0 || v.length > max)
    throw bad(`"${field}" must be a string of 1 to ${max} characters.`);
  return v;
}

function optionalWebUrl(input: ClientMetadataInput, field: string): string | null {
  const v = optionalString(input, field, MAX_URI);
  if (v === null) return null;
  try {
    const u = new URL(v);
    if (u.protocol === 'https:' || (u.protocol === 'http:' && LOOPBACK.includes(u.hostname))) return v;
  } catch {
    // fall through
  }
  throw bad(`"${field}" must be an https URL.`);
}

function stringArray(input: ClientMetadataInput, field: string, max: number): string[] | undefined {
  const v = input[field];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.length > max || !v.every((x) => typeof x === 'string')) {
    throw bad(`"${field}" must be an array of at most ${max} strings.`);
  }
  return [...new Set(v as string[])];
}

/**
 * Validates client metadata (RFC 7591 §2) and applies its defaults: grant_types ["authorization_code"],
 * token_endpoint_auth_method "client_secret_basic", scope "base". `allowPassword` is for the admin API only.
 */
/** The registry fields (src/storage/clients.ts) that validated metadata sets, for createClient and updateClient. */
export function registryFields(m: ValidatedClientMetadata) {
  const { name, siteUrl, logoUrl, description, redirectUris, grantTypes, scopes } = m;
  // The method as registered (issue 10): stored, read back by RFC 7592, enforced by src/services/client-auth.ts.
  const authMethod = m.authMethod === 'none' ? undefined : m.authMethod;
  return { name, siteUrl, logoUrl, description, redirectUris, grantTypes, scopes, authMethod };
}

export function validateClientMetadata(
  input: ClientMetadataInput,
  options: { allowPassword?: boolean; defaultName?: string } = {},
): ValidatedClientMetadata {
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    throw bad('The client metadata must be a JSON object.');
  const name = optionalString(input, 'client_name', 100) ?? options.defaultName;
  if (!name) throw bad('"client_name" is required.');

  const authMethod = (input.token_endpoint_auth_method ?? 'client_secret_basic') as AuthMethod;
  if (!AUTH_METHODS.includes(authMethod))
    throw bad(`"token_endpoint_auth_method" must be one of: ${AUTH_METHODS.join(', ')}.`);
  const confidential = authMethod !== 'none';

  const allowed: readonly string[] = options.allowPassword ? ADMIN_GRANTS : REGISTRABLE_GRANTS;
  const requested = stringArray(input, 'grant_types', 4) ?? ['authorization_code'];
  if (requested.length === 0) throw bad('"grant_types" must name at least one grant type.');
  const grantTypes: GrantType[] = [];
  for (const g of requested) {
    if (!allowed.includes(g) || !isGrantType(g)) {
      throw bad(`The grant type "${g.slice(0, 40)}" cannot be registered here (allowed: ${allowed.join(', ')}).`);
    }
    grantTypes.push(g);
  }
  if (!confidential && (grantTypes.includes('client_credentials') || grantTypes.includes('password'))) {
    throw bad(
      'A public client (token_endpoint_auth_method "none") cannot use the client_credentials or password grant.',
    );
  }

  // RFC 7591 §2.1: response_types and grant_types must agree; only "code" is offered (no implicit, RFC 9700 §2.1.2).
  const responseTypes = stringArray(input, 'response_types', 2);
  const wantsCode = grantTypes.includes('authorization_code');
  if (responseTypes !== undefined) {
    if (responseTypes.some((r) => r !== 'code')) throw bad('Only the response type "code" is supported.');
    if (responseTypes.includes('code') !== wantsCode)
      throw bad('"response_types" ["code"] goes with, and only with, the authorization_code grant.');
  }

  const redirectUris = stringArray(input, 'redirect_uris', 10) ?? [];
  for (const uri of redirectUris) {
    const problem = validateRedirectUri(uri);
    // One sentence: the rule's own sentence follows a colon, starting in lower case.
    if (problem) {
      const reason = `${problem.charAt(0).toLowerCase()}${problem.slice(1)}`;
      throw new OAuthError('invalid_redirect_uri', `The redirect URI "${uri.slice(0, 100)}" is refused: ${reason}`);
    }
  }
  if (wantsCode && redirectUris.length === 0) {
    throw new OAuthError(
      'invalid_redirect_uri',
      'The authorization_code grant needs at least one redirect URI in "redirect_uris".',
    );
  }

  const rawScope = input.scope;
  if (rawScope !== undefined && typeof rawScope !== 'string') throw bad('"scope" must be a space-separated string.');
  let scopes: Scope[];
  try {
    scopes = parseScope(rawScope as string | undefined);
  } catch {
    throw bad(`"scope" must list only these scopes: ${SCOPES.join(', ')}.`);
  }

  return {
    name,
    siteUrl: optionalWebUrl(input, 'client_uri'),
    logoUrl: optionalWebUrl(input, 'logo_uri'),
    description: optionalString(input, 'description', 500),
    redirectUris,
    grantTypes,
    scopes,
    authMethod,
    confidential,
  };
}

/** The RFC 7591 §3.2.1 view of a stored client (no secret: only its hash is stored). */
export function clientMetadataView(c: Client): Record<string, unknown> {
  return {
    client_id: c.id,
    client_id_issued_at: c.createdAt,
    client_name: c.name,
    ...(c.siteUrl ? { client_uri: c.siteUrl } : {}),
    ...(c.logoUrl ? { logo_uri: c.logoUrl } : {}),
    ...(c.description ? { description: c.description } : {}),
    redirect_uris: c.redirectUris,
    grant_types: c.grantTypes,
    response_types: c.grantTypes.includes('authorization_code') ? ['code'] : [],
    scope: c.scopes.join(' '),
    // As registered (issue 10); a client cached before migration 0006 has none: it was registered under the default.
    token_endpoint_auth_method: c.authMethod ?? (c.confidential ? 'client_secret_basic' : 'none'),
  };
}
