/**
 * Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document-03; MCP authorization 2025-11-25,
 * "Client ID Metadata Documents"): a client whose `client_id` is an https URL publishes its metadata at that URL, and
 * the server uses the document instead of a registration. Pure rules, no I/O: which ids are such URLs, and what a
 * fetched document must hold to become a Client. The fetch is src/lib/safe-fetch.ts, the cache
 * src/services/resolve-client.ts.
 *
 * A document is trusted for what it says about its own URL, nothing more, so:
 * - its `client_id` equals the URL exactly (simple string comparison, no normalisation: draft "Client Identifier URL",
 *   RFC 3986 §6.2.1), and the URL is one the WHATWG parser leaves unchanged (no dot segments, no case games);
 * - it holds no `client_secret` / `client_secret_expires_at` (a document is public; a secret in it is no secret) and
 *   uses no shared-secret method: `token_endpoint_auth_method` is `none` (the default here) or `private_key_jwt` with
 *   `jwks` or `jwks_uri` (RFC 7591 §2: not both), which the token endpoint checks (RFC 7523, the pkjwt work);
 * - it asks only for the code flow: `authorization_code` (+ `refresh_token`), `response_types` `code`;
 * - `redirect_uris` are required and follow the registration rules (src/oauth/redirect-uri.ts);
 * - `logo_uri` is dropped: the consent page never shows an image a stranger chose (it could imitate anyone), and the
 *   server never fetches it; the page shows the redirect URI's host instead (src/ui/consent.tsx).
 */
import type { JSONWebKeySet } from 'jose';
import { OAuthError } from '../lib/errors';
import { refusedUrl } from '../lib/safe-fetch';
import type { Client } from './client';
import { validateClientMetadata } from './client-metadata';
import { assertOpenRegistration } from './registration-policy';
import { SCOPES } from './scopes';

/** Longest client_id URL accepted (the draft sets none; a KV key and a log line must stay small). */
export const MAX_CLIENT_ID_URL_LENGTH = 400;

/** Whether `clientId` names a metadata document (an https URL), rather than a registered client. */
export function isClientIdDocumentUrl(clientId: string): boolean {
  return clientId.startsWith('https://');
}

/** Why `clientId` cannot be a Client Identifier URL (draft "Client Identifier URL"), or null. */
export function refusedClientIdUrl(clientId: string): string | null {
  if (clientId.length > MAX_CLIENT_ID_URL_LENGTH)
    return `the client_id URL is longer than ${MAX_CLIENT_ID_URL_LENGTH} characters`;
  const refused = refusedUrl(clientId);
  if (refused) return refused.replace(/^the address/, 'the client_id URL');
  const url = new URL(clientId);
  // The draft: MUST contain a path component, MUST NOT contain dot segments; and it is compared unnormalised.
  if (url.href !== clientId)
    return `the client_id URL must be written in its normal form ("${url.href.slice(0, 200)}")`;
  if (url.pathname === '/' || url.pathname === '')
    return 'the client_id URL must have a path (for example /oauth/client.json)';
  return null;
}

export class ClientIdDocumentInvalid extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'ClientIdDocumentInvalid';
  }
}

const METHODS = ['none', 'private_key_jwt'] as const;

/** Validates a fetched document for `url` and returns the Client it describes; throws ClientIdDocumentInvalid. */
export function clientFromDocument(url: string, json: unknown, now: number): Client {
  const bad = (reason: string) => new ClientIdDocumentInvalid(reason);
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw bad('the document is not a JSON object');
  const doc = json as Record<string, unknown>;
  if (doc.client_id !== url) throw bad('its "client_id" is not exactly the URL it was fetched from');
  if ('client_secret' in doc || 'client_secret_expires_at' in doc) {
    throw bad('it contains a client secret, which a public document cannot keep secret');
  }
  const method = doc.token_endpoint_auth_method ?? 'none';
  if (!(METHODS as readonly unknown[]).includes(method)) {
    throw bad('its "token_endpoint_auth_method" must be "none" or "private_key_jwt" (no shared secrets)');
  }
  const { jwks, jwks_uri: jwksUri } = doc;
  if (method === 'private_key_jwt') {
    if ((jwks === undefined) === (jwksUri === undefined))
      throw bad('private_key_jwt needs exactly one of "jwks" and "jwks_uri"');
    if (
      jwks !== undefined &&
      (typeof jwks !== 'object' || jwks === null || !Array.isArray((jwks as { keys?: unknown }).keys))
    ) {
      throw bad('its "jwks" must be a JWK Set ({"keys": [...]})');
    }
    if (jwksUri !== undefined && (typeof jwksUri !== 'string' || refusedUrl(jwksUri) !== null)) {
      throw bad('its "jwks_uri" must be a public https URL');
    }
  }
  if (!Array.isArray(doc.redirect_uris) || doc.redirect_uris.length === 0) throw bad('it lists no "redirect_uris"');

  const {
    client_id: _id,
    token_endpoint_auth_method: _method,
    jwks: _jwks,
    jwks_uri: _jwksUri,
    logo_uri: _logo,
    ...rest
  } = doc;
  const host = new URL(url).host;
  let m: ReturnType<typeof validateClientMetadata>;
  try {
    // The registration rules (names, redirect URIs, grants, scopes), with the method as a public client's; all known
    // scopes when the document names none (the user approves each request on the consent page anyway).
    m = validateClientMetadata({ scope: SCOPES.join(' '), ...rest }, { defaultName: host, defaultAuthMethod: 'none' });
    assertOpenRegistration('open', m);
  } catch (err) {
    if (err instanceof OAuthError) throw bad(err.description.replace(/\.$/, ''));
    throw err;
  }
  const confidential = method === 'private_key_jwt';
  return {
    id: url,
    secretHash: null,
    name: m.name,
    siteUrl: m.siteUrl,
    description: m.description,
    logoUrl: null,
    redirectUris: m.redirectUris,
    grantTypes: m.grantTypes,
    scopes: m.scopes,
    confidential,
    authMethod: method as Client['authMethod'],
    requirePkce: true,
    refreshTokenPolicy: 'rotate',
    ownerUserId: null,
    status: 'active',
    createdAt: now,
    updatedAt: now,
    metadataDocument: true,
    ...(jwks !== undefined ? { jwks: jwks as JSONWebKeySet } : {}),
    ...(typeof jwksUri === 'string' ? { jwksUri } : {}),
  };
}
