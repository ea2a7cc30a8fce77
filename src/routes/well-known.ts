/** Discovery: RFC 8414 authorization server metadata and the RFC 7517 JWK Set. */
import { Hono } from 'hono';
import { GRANT_TYPES } from '../oauth/grant-types';
import { openidProviderMetadata } from '../oauth/oidc-discovery';
import { ALL_SCOPES } from '../oauth/scopes';
import { JWKS_MAX_AGE_SECONDS } from '../services/key-rotation';
import { idTokenAlgs } from '../tokens/id-token';
import { getKeyRing } from '../tokens/keyring';
import type { AppEnv } from '../types';

export const wellKnownRoutes = new Hono<AppEnv>();

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
    revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
    introspection_endpoint: `${issuer}/oauth2/introspect`,
    introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    registration_endpoint: `${issuer}/oauth2/register`,
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'], // none: public clients (PKCE)
    service_documentation: `${issuer}/`,
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

wellKnownRoutes.get('/jwks.json', async (c) => {
  const ring = await getKeyRing(c.env);
  // The rotation waits this long before a published key signs (src/services/key-rotation.ts).
  c.header('Cache-Control', `public, max-age=${JWKS_MAX_AGE_SECONDS}`);
  return c.json(ring.jwks);
});
