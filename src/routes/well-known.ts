/**
 * Discovery: RFC 8414 authorization server metadata, the RFC 7517 JWK Set and the RFC 9728 protected-resource
 * metadata of our own API (/v1). CORS on all of them: src/middleware/public-cors.ts.
 */
import { Hono } from 'hono';
import {
  PROTECTED_RESOURCE_WELL_KNOWN,
  protectedResourceMetadata,
  resourceMetadataPath,
} from '../../packages/resource-server/src/metadata.js';
import type { Config } from '../config';
import { OAuthError } from '../lib/errors';
import { CLIENT_ASSERTION_ALGS } from '../oauth/client-assertion';
import { GRANT_TYPES } from '../oauth/grant-types';
import { openidProviderMetadata } from '../oauth/oidc-discovery';
import { ALL_SCOPES, SCOPES } from '../oauth/scopes';
import { JWKS_MAX_AGE_SECONDS } from '../services/key-rotation';
import { idTokenAlgs } from '../tokens/id-token';
import { getKeyRing } from '../tokens/keyring';
import type { AppEnv } from '../types';

export const wellKnownRoutes = new Hono<AppEnv>();

/**
 * draft-ietf-oauth-client-id-metadata-document §4: whether a `client_id` may be an https URL naming its metadata
 * document, resolved by src/services/resolve-client.ts (issue 13).
 */
export function clientIdMetadataDocumentSupported(): boolean {
  return true;
}

/** Extra metadata members contributed by optional endpoints (authorization, revocation, …). */
export function authorizationServerMetadata(issuer: string): Record<string, unknown> {
  return {
    issuer,
    token_endpoint: `${issuer}/oauth2/token`,
    jwks_uri: `${issuer}/.well-known/jwks.json`,
    grant_types_supported: GRANT_TYPES,
    authorization_endpoint: `${issuer}/oauth2/authorize`,
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    code_challenge_methods_supported: ['S256'],
    authorization_response_iss_parameter_supported: true, // RFC 9207 §3
    scopes_supported: ALL_SCOPES,
    // RFC 7009, RFC 7662, RFC 7591 (registration needs an initial access token from the administrator).
    revocation_endpoint: `${issuer}/oauth2/revoke`,
    revocation_endpoint_auth_methods_supported: [
      'client_secret_basic',
      'client_secret_post',
      'private_key_jwt',
      'none',
    ],
    introspection_endpoint: `${issuer}/oauth2/introspect`,
    introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
    registration_endpoint: `${issuer}/oauth2/register`,
    // none: public clients (PKCE); private_key_jwt: RFC 7523 §2.2 (src/services/private-key-jwt.ts).
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'],
    service_documentation: `${issuer}/`,
    client_id_metadata_document_supported: clientIdMetadataDocumentSupported(),
    // Issue 13: the algorithms private_key_jwt assertions may use at all three endpoints (RFC 8414 §2).
    ...assertionAlgMetadata(),
  };
}

/** RFC 8414 §2 `*_auth_signing_alg_values_supported` for private_key_jwt (issue 13). */
function assertionAlgMetadata(): Record<string, string[]> {
  const algs = [...CLIENT_ASSERTION_ALGS];
  return {
    token_endpoint_auth_signing_alg_values_supported: algs,
    revocation_endpoint_auth_signing_alg_values_supported: algs,
    introspection_endpoint_auth_signing_alg_values_supported: algs,
  };
}

/** RFC 8414 and OpenID Connect Discovery 1.0 §4: one document, served at both addresses. */
async function providerMetadata(env: Env, issuer: string): Promise<Record<string, unknown>> {
  const ring = await getKeyRing(env);
  // Issue 15: the OpenID Provider members (Discovery §3), a separate section so other additions merge cleanly.
  return { ...authorizationServerMetadata(issuer), ...openidProviderMetadata(issuer, idTokenAlgs(ring)) };
}

wellKnownRoutes.get('/oauth-authorization-server', async (c) => {
  c.header('Cache-Control', 'public, max-age=300');
  return c.json(await providerMetadata(c.env, c.get('config').issuer));
});

wellKnownRoutes.get('/openid-configuration', async (c) => {
  c.header('Cache-Control', 'public, max-age=300');
  return c.json(await providerMetadata(c.env, c.get('config').issuer));
});

/**
 * RFC 8414 §3.1: for an issuer with a path (`https://as.example/tenant`), the metadata is also at the well-known
 * URI with the path inserted after it (`/.well-known/oauth-authorization-server/tenant`); the plain form above
 * stays for clients that append it to the issuer (RFC 8414 §5, OpenID Connect Discovery §4). Any other suffix is 404.
 */
wellKnownRoutes.get('/oauth-authorization-server/*', (c) => {
  const { issuer } = c.get('config');
  const issuerPath = new URL(issuer).pathname.replace(/\/$/, '');
  if (!issuerPath || new URL(c.req.url).pathname !== `/.well-known/oauth-authorization-server${issuerPath}`) {
    throw new OAuthError('invalid_request', 'No authorization server metadata at this path.', { status: 404 });
  }
  c.header('Cache-Control', 'public, max-age=300');
  return c.json(authorizationServerMetadata(issuer));
});

/**
 * RFC 9728 §2: our /v1 API's metadata (resource = ACCESS_TOKEN_AUDIENCE), built by packages/resource-server's
 * builder. `query` is listed because the image routes take `?access_token=` (files-only tokens, RFC 6750 §2.3).
 * `offline_access` is not a scope of ours and never appears (issue 13).
 */
export function ownResourceMetadata(config: Config): Record<string, unknown> {
  return protectedResourceMetadata({
    resource: config.audience,
    authorizationServers: [config.issuer],
    scopesSupported: [...SCOPES],
    bearerMethodsSupported: ['header', 'query'],
    resourceName: 'API',
    resourceDocumentation: `${config.issuer}/`,
  });
}

/**
 * RFC 9728 §3.1: served at the path-suffixed well-known URI of the resource (`/.well-known/oauth-protected-resource/v1`
 * for `…/v1`) and, for clients that only try the origin's (MCP 2025-06-18 falls back to it), at the plain one.
 */
// Before the suffixed route: hono's `/*` also matches the bare path.
wellKnownRoutes.get(PROTECTED_RESOURCE_WELL_KNOWN.replace('/.well-known', ''), (c) => {
  c.header('Cache-Control', 'public, max-age=300');
  return c.json(ownResourceMetadata(c.get('config')));
});

wellKnownRoutes.get('/jwks.json', async (c) => {
  const ring = await getKeyRing(c.env);
  // The rotation waits this long before a published key signs (src/services/key-rotation.ts).
  c.header('Cache-Control', `public, max-age=${JWKS_MAX_AGE_SECONDS}`);
  return c.json(ring.jwks);
});
wellKnownRoutes.get('/oauth-protected-resource/*', (c) => {
  const config = c.get('config');
  if (new URL(c.req.url).pathname !== resourceMetadataPath(config.audience)) {
    throw new OAuthError('invalid_request', 'No protected resource is described at this path.', { status: 404 });
  }
  c.header('Cache-Control', 'public, max-age=300');
  return c.json(ownResourceMetadata(config));
});
