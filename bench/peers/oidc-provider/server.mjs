// Peer: oidc-provider on Node, as a separate process (bench-only). Production-like settings:
// NODE_ENV=production, no dev interactions, one confidential client (client_secret_basic) with only the
// client_credentials grant, RFC 8707 resource indicators so client_credentials issues RFC 9068 JWT access
// tokens (ES256) for `urn:bench:jwt`, opaque tokens for `urn:bench:opaque` (which its RFC 7662 introspection
// can look up; it refuses to introspect structured tokens), and its default in-memory adapter.
// Usage: node server.mjs <port> <client_id> <client_secret>; prints "ready" when listening.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import Provider from 'oidc-provider';

const [port, clientId, clientSecret] = process.argv.slice(2);
const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'bench-es256', alg: 'ES256', use: 'sig' };

const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [
    {
      client_id: clientId,
      client_secret: clientSecret,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: 'api',
      id_token_signed_response_alg: 'ES256', // the only key is ES256 (default would be RS256)
    },
  ],
  jwks: { keys: [jwk] },
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  scopes: ['api'],
  ttl: { ClientCredentials: 3600 },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    // Only the client a token was issued to may introspect it.
    introspection: { enabled: true, allowedPolicy: (_ctx, client, token) => client.clientId === token.clientId },
    revocation: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => 'urn:bench:jwt',
      useGrantedResource: () => true,
      getResourceServerInfo: (_ctx, resource) => ({
        scope: 'api',
        audience: resource,
        accessTokenTTL: 3600,
        accessTokenFormat: resource === 'urn:bench:opaque' ? 'opaque' : 'jwt',
        jwt: { sign: { alg: 'ES256' } },
      }),
    },
  },
});
provider.on('server_error', (_ctx, err) => console.error('oidc-provider server_error', err));
provider.listen(Number(port), '127.0.0.1', () => console.log('ready'));
// Never outlive the bench harness that started this process.
const parent = process.ppid;
setInterval(() => process.ppid !== parent && process.exit(0), 1000).unref();
