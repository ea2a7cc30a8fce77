/** What a registered client is (the registry's shape, src/storage/clients.ts stores it). No I/O. */
import type { GrantType } from './grant-types';
import type { Scope } from './scopes';

/** How a client authenticates at the token endpoint (RFC 7591 §2); `none` is a public client. */
export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'none';

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
  requirePkce: boolean;
  /** Read it through refreshPolicyOf (a client cached before migration 0008 has none). */
  refreshTokenPolicy: RefreshTokenPolicy;
  /**
   * OpenID Connect client metadata (Dynamic Registration §2, migrations/0012), validated by
   * src/oauth/oidc-client-metadata.ts; absent on a client cached before the migration.
   */
  oidc?: OidcClientMetadata;
  ownerUserId: string | null;
  status: 'active' | 'disabled';
  createdAt: number;
  updatedAt: number;
}
