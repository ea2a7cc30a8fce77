/** What a registered client is (the registry's shape, src/storage/clients.ts stores it). No I/O. */
import type { GrantType } from './grant-types';
import type { Scope } from './scopes';

/** How a client authenticates at the token endpoint (RFC 7591 §2); `none` is a public client. */
export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'none' | 'private_key_jwt';

/** Issue 11 (migrations/0008): what the refresh grant returns; `reuse` only for confidential clients (RFC 9700 §4.14.2). */
export type RefreshTokenPolicy = 'rotate' | 'reuse';

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
  /** RFC 7591 §2 `jwks` / `jwks_uri` (a document's, for private_key_jwt, RFC 7523). */
  jwks?: unknown;
  jwksUri?: string;
  status: 'active' | 'disabled';
  createdAt: number;
  updatedAt: number;
}
