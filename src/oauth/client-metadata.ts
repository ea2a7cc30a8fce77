/**
 * Client metadata validation shared by dynamic registration (RFC 7591 §2) and the admin API.
 * Pure rules, no I/O. Errors are RFC 7591 §3.2.2 invalid_redirect_uri / invalid_client_metadata.
 * Redirect URIs follow the same rules as the portal: src/oauth/redirect-uri.ts `validateRedirectUri`.
 */

import * as v from 'valibot';
import { OAuthError } from '../lib/errors';
import { nullishString, nullishStringArray, parseBody } from './body-schema';
import type { Client, OidcClientMetadata } from './client';
import { validateClientKeys } from './client-keys';
import { type GrantType, isGrantType } from './grant-types';
import { validateOidcMetadata } from './oidc-client-metadata';
import { validateRedirectUri } from './redirect-uri';
import { parseScope, SCOPES, type Scope } from './scopes';

/** Grants a registered client may ask for; `password` only through the admin API (RFC 9700 §2.4). */
const REGISTRABLE_GRANTS = ['authorization_code', 'refresh_token', 'client_credentials'] as const;
const ADMIN_GRANTS = [...REGISTRABLE_GRANTS, 'password'] as const;
export const AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'] as const;
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
  /** private_key_jwt only (src/oauth/client-keys.ts): exactly one of the two is set. */
  jwks: Client['jwks'];
  jwksUri: string | null;
  /** OpenID Connect members (src/oauth/oidc-client-metadata.ts). */
  oidc: OidcClientMetadata;
}

const LOOPBACK = ['localhost', '127.0.0.1', '[::1]'];
const MAX_URI = 2000;

/**
 * The shape of RFC 7591 §2 metadata: each field's type and size, in the order they are checked, so the first issue
 * names the first bad field. What a value may be (allowed grants, redirect-URI rules, scopes) is judged after, on
 * typed values. Unknown fields are ignored (RFC 7591 §2: "MUST ignore any client metadata it does not understand").
 */
const MetadataShape = v.object({
  client_name: nullishString('client_name', 100),
  token_endpoint_auth_method: v.nullish(
    v.picklist(AUTH_METHODS, `"token_endpoint_auth_method" must be one of: ${AUTH_METHODS.join(', ')}.`),
  ),
  grant_types: nullishStringArray('grant_types', 4),
  response_types: nullishStringArray('response_types', 2),
  redirect_uris: nullishStringArray('redirect_uris', 10),
  // Not nullish: a null scope is refused, as it always was.
  scope: v.optional(v.string('"scope" must be a space-separated string.')),
  client_uri: nullishString('client_uri', MAX_URI),
  logo_uri: nullishString('logo_uri', MAX_URI),
  description: nullishString('description', 500),
});

function bad(description: string): OAuthError {
  return new OAuthError('invalid_client_metadata', description);
}

function webUrl(field: string, value: string | null | undefined): string | null {
  if (value === undefined || value === null) return null;
  try {
    const u = new URL(value);
    if (u.protocol === 'https:' || (u.protocol === 'http:' && LOOPBACK.includes(u.hostname))) return value;
  } catch {
    // fall through
  }
  throw bad(`"${field}" must be an https URL.`);
}

const unique = (list: string[] | null | undefined) => (list ? [...new Set(list)] : undefined);

/** The registry fields (src/storage/clients.ts) that validated metadata sets, for createClient and updateClientAudited. */
export function registryFields(m: ValidatedClientMetadata) {
  const { name, siteUrl, logoUrl, description, redirectUris, grantTypes, scopes, jwks, jwksUri, oidc } = m;
  // The method as registered (issue 10): stored, read back by RFC 7592, enforced by src/services/client-auth.ts.
  // private_key_jwt is stored as its keys (migrations/0011).
  const keyed = m.authMethod === 'private_key_jwt';
  const authMethod = m.authMethod === 'none' ? undefined : m.authMethod;
  return {
    name,
    siteUrl,
    logoUrl,
    description,
    redirectUris,
    grantTypes,
    scopes,
    authMethod,
    oidc,
    ...(keyed ? { jwks, jwksUri, keys: { jwks, jwksUri } } : {}),
  };
}

/**
 * Validates client metadata (RFC 7591 §2) and applies its defaults: grant_types ["authorization_code"],
 * token_endpoint_auth_method "client_secret_basic", scope "base". `allowPassword` is for the admin API only.
 */
export function validateClientMetadata(
  input: ClientMetadataInput,
  options: { allowPassword?: boolean; defaultName?: string; defaultAuthMethod?: AuthMethod } = {},
): ValidatedClientMetadata {
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    throw bad('The client metadata must be a JSON object.');
  const shape = parseBody(MetadataShape, input, 'invalid_client_metadata');
  const name = shape.client_name ?? options.defaultName;
  if (!name) throw bad('"client_name" is required.');

  const authMethod = shape.token_endpoint_auth_method ?? options.defaultAuthMethod ?? 'client_secret_basic';
  const confidential = authMethod !== 'none';

  const allowed: readonly string[] = options.allowPassword ? ADMIN_GRANTS : REGISTRABLE_GRANTS;
  const requested = unique(shape.grant_types) ?? ['authorization_code'];
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
  const responseTypes = unique(shape.response_types);
  const wantsCode = grantTypes.includes('authorization_code');
  if (responseTypes !== undefined) {
    if (responseTypes.some((r) => r !== 'code')) throw bad('Only the response type "code" is supported.');
    if (responseTypes.includes('code') !== wantsCode)
      throw bad('"response_types" ["code"] goes with, and only with, the authorization_code grant.');
  }

  const redirectUris = unique(shape.redirect_uris) ?? [];
  for (const uri of redirectUris) {
    const problem = validateRedirectUri(uri, { publicClient: !confidential });
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

  let scopes: Scope[];
  try {
    scopes = parseScope(shape.scope);
  } catch {
    throw bad(`"scope" must list only these scopes: ${SCOPES.join(', ')}.`);
  }

  return {
    name,
    siteUrl: webUrl('client_uri', shape.client_uri),
    logoUrl: webUrl('logo_uri', shape.logo_uri),
    description: shape.description ?? null,
    redirectUris,
    grantTypes,
    scopes,
    authMethod,
    confidential,
    // RFC 7591 §2 jwks / jwks_uri, public keys only, never both; read from the raw input (their shape is checked there).
    ...validateClientKeys(authMethod, input.jwks, input.jwks_uri),
    oidc: validateOidcMetadata(input, redirectUris), // issue 15
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
    ...(c.jwks ? { jwks: c.jwks } : {}),
    ...(c.jwksUri ? { jwks_uri: c.jwksUri } : {}),
    ...c.oidc, // issue 15: OpenID Connect members as registered
  };
}

/**
 * A registered client keeps its kind of credential: public, a secret, or keys (private_key_jwt). Switching would
 * leave a secret nobody holds or keys beside a secret (two ways in); register a new client instead.
 */
export function assertSameCredentialKind(m: ValidatedClientMetadata, current: Client, next: string): void {
  const kind = (method: string | undefined, confidential: boolean) =>
    !confidential ? 'public' : method === 'private_key_jwt' ? 'keys' : 'secret';
  if (kind(m.authMethod, m.confidential) !== kind(current.authMethod, current.confidential))
    throw bad(`token_endpoint_auth_method cannot switch between public, secret and private_key_jwt; ${next}.`);
}
