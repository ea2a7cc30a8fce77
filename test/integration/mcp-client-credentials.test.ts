/**
 * The MCP "OAuth client credentials" extension (SEP-1046, modelcontextprotocol/ext-auth
 * specification/draft/oauth-client-credentials): a machine client gets a token with the client_credentials grant,
 * authenticating with private_key_jwt (RFC 7523 §2.2). Driven by a strict real client, oauth4webapi's PrivateKeyJwt,
 * from discovery on, and by hand with a `resource` parameter, which this grant passes through untouched to the
 * resource rules (RFC 8707, issue 13 `resource` work).
 */
import { exports } from 'cloudflare:workers';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import * as oauth from 'oauth4webapi';
import { describe, expect, it } from 'vitest';
import { JWT_BEARER_ASSERTION_TYPE } from '../../src/oauth/client-assertion';
import { call, ORIGIN, seedClient } from '../helpers';

const worker = (exports as unknown as { default: Fetcher }).default;
const options = {
  [oauth.customFetch]: (url: string, init: RequestInit) => worker.fetch(new Request(url, init)),
  [oauth.allowInsecureRequests]: true,
};

async function keyClient() {
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
  const kid = 'mcp-agent-1';
  const registered = await seedClient({
    authMethod: 'private_key_jwt',
    jwks: { keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' }] },
    grantTypes: ['client_credentials'],
  });
  return { id: registered.id, privateKey, kid };
}

describe('MCP client credentials extension: client_credentials with private_key_jwt', () => {
  it('oauth4webapi discovers the server and gets a token with PrivateKeyJwt', async () => {
    const issuer = new URL(ORIGIN);
    const as = await oauth.processDiscoveryResponse(
      issuer,
      await oauth.discoveryRequest(issuer, { ...options, algorithm: 'oauth2' }),
    );
    expect(as.token_endpoint_auth_methods_supported).toContain('private_key_jwt');
    const agent = await keyClient();
    const auth = oauth.PrivateKeyJwt({ key: agent.privateKey, kid: agent.kid });
    const client: oauth.Client = { client_id: agent.id };
    const params = new URLSearchParams({ scope: 'base' });
    const res = await oauth.clientCredentialsGrantRequest(as, client, auth, params, options);
    const tokens = await oauth.processClientCredentialsResponse(as, client, res);
    expect(tokens.token_type).toBe('bearer');
    expect(tokens.scope).toBe('base');
    expect(tokens.expires_in).toBe(3600);
    expect(tokens).not.toHaveProperty('refresh_token');

    const me = await call('/v1/me', { headers: { Authorization: `Bearer ${tokens.access_token}` } });
    expect(me.status).not.toBe(401);
  });

  it('by hand, with resource: the parameter reaches the grant untouched (no client-auth error)', async () => {
    const agent = await keyClient();
    const now = Math.floor(Date.now() / 1000);
    const assertion = await new SignJWT({ iss: agent.id, sub: agent.id, aud: ORIGIN, jti: crypto.randomUUID() })
      .setProtectedHeader({ alg: 'ES256', kid: agent.kid, typ: 'JWT' })
      .setIssuedAt(now)
      .setExpirationTime(now + 60)
      .sign(agent.privateKey);
    const res = await call('/oauth2/token', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_assertion_type: JWT_BEARER_ASSERTION_TYPE,
        client_assertion: assertion,
        scope: 'base',
        resource: `${ORIGIN}/v1`,
      }).toString(),
    });
    // Client authentication succeeded: whatever the resource rules answer (200 with aud = resource once the
    // `resource` work is merged, invalid_target for an unknown resource), it is not invalid_client.
    const body = (await res.json()) as { error?: string; access_token?: string };
    expect(body.error).not.toBe('invalid_client');
    expect(res.headers.get('Cache-Control')).toBe('no-store');
  });
});
