/** What a registered client is (the registry's shape, src/storage/clients.ts stores it). No I/O. */
import type { JSONWebKeySet } from 'jose';
import type { GrantType } from './grant-types';
import type { Scope } from './scopes';

/**
 * How a client authenticates at the token endpoint (RFC 7591 §2); `none` is a public client, `private_key_jwt`
 * (RFC 7523 §2.2, OIDC Core §9) a confidential client without a secret that signs assertions with its keys.
 */
export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt' | 'none';

/** Issue 11 (migrations/0008): what the refresh grant returns; `reuse` only for confidential clients (RFC 9700 §4.14.2). */
export type RefreshTokenPolicy = 'rotate' | 'reuse';

/** The OpenID Connect metadata a client may register (Dynamic Registration 1.0 §2); every member optional. */
export interface OidcClientMetadata {
  id_token_signed_response_alg?: 'RS256' | 'ES256' | 'EdDSA';
  subject_type?: 'public' | 'pairwise';
  sector_identifier_uri?: string;
  post_logout_redirect_uris?: string[];
  default_max_age?: number;
  require_auth_time?: boolean;
  application_type?: 'web' | 'native';
}

export interface Client {
  id: string;
  /** base64url SHA-256 of the secret; null for public clients. */
  secretHash: string | null;
  name: string;
  siteUrl: string | null;
  description: string | null;
  logoUrl: string | null;
  redirectUris: string[];
  grantTypes: GrantType[];
  scopes: Scope[];
  confidential: boolean;
  /** RFC 7591 §2 token_endpoint_auth_method as registered; the only method client authentication accepts. */
  authMethod: ClientAuthMethod;
  /**
   * The public keys a `private_key_jwt` client signs its assertions with (issue 13, migrations/0011): an inline
   * RFC 7517 JWK Set or a `jwks_uri` fetched through src/lib/safe-fetch.ts, never both. Absent (or null) for other
   * clients and for a client cached before migration 0011. A Client ID Metadata Document client sets them from its
   * document, and src/services/private-key-jwt.ts takes its keys from here whatever the client's origin.
   */
  jwks?: JSONWebKeySet | null;
  jwksUri?: string | null;
  requirePkce: boolean;
  /** Read it through refreshPolicyOf (a client cached before migration 0008 has none). */
  refreshTokenPolicy: RefreshTokenPolicy;
  /**
   * OpenID Connect client metadata (Dynamic Registration §2, migrations/0012), validated by
   * src/oauth/oidc-client-metadata.ts; absent on a client cached before the migration.
   */
  oidc?: OidcClientMetadata;
  ownerUserId: string | null;
  /**
   * Issue 13 (migrations/0009): the resources (canonical URIs) this client may ask for; null = every registered
   * one. Optional: a client cached (KV, up to 5 minutes) before the migration has none, which means null.
   */
  allowedResources?: string[] | null;
  /** Issue 13 (migrations/0010): registered without an initial access token; deleted when idle. Absent in old caches. */
  registeredOpenly?: boolean;
  /**
   * Issue 13: described by its Client ID Metadata Document (the id is its https URL), not registered: never stored in
   * D1, cached in KV (src/services/resolve-client.ts). Always shown the consent page.
   */
  metadataDocument?: boolean;
  status: 'active' | 'disabled';
  createdAt: number;
  updatedAt: number;
}
