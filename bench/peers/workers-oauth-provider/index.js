// Peer: @cloudflare/workers-oauth-provider in its one-Worker shape (OAuthProvider: authorization server
// and its only resource), library defaults for every security setting (access tokens 1 h, refresh
// tokens rotate on use, 30-day grants, hashes-only KV storage, props encrypted). Bench-only code.
import { OAuthProvider } from '@cloudflare/workers-oauth-provider';

const REDIRECT_URI = 'https://app.example/cb';

// The protected API: what /v1/me is in our server. The provider has already verified the token.
const apiHandler = {
  async fetch(_request, _env, ctx) {
    return Response.json({ sub: ctx.props.userId, scope: ctx.auth?.scope });
  },
};

// The application's own routes. /authorize is where a real app signs the user in; here the bench's
// seeding route plays that part: one client, then `n` grants (auth codes the harness exchanges over HTTP).
const defaultHandler = {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname !== '/bench/seed' || request.method !== 'POST') return new Response('not found', { status: 404 });
    const n = Math.min(Number(url.searchParams.get('n') ?? '1'), 1000);
    const client = await env.OAUTH_PROVIDER.createClient({
      redirectUris: [REDIRECT_URI],
      clientName: 'bench',
      tokenEndpointAuthMethod: 'client_secret_basic',
      grantTypes: ['authorization_code', 'refresh_token'],
      responseTypes: ['code'],
    });
    const codes = [];
    for (let i = 0; i < n; i++) {
      const authorize = new URL('/authorize', url.origin);
      authorize.search = new URLSearchParams({
        response_type: 'code',
        client_id: client.clientId,
        redirect_uri: REDIRECT_URI,
        scope: 'read',
        state: `s${i}`,
      }).toString();
      const authRequest = await env.OAUTH_PROVIDER.parseAuthRequest(new Request(authorize));
      const { redirectTo } = await env.OAUTH_PROVIDER.completeAuthorization({
        request: authRequest,
        userId: `user${i}`,
        metadata: {},
        scope: ['read'],
        props: { userId: `user${i}` },
      });
      codes.push(new URL(redirectTo).searchParams.get('code'));
    }
    return Response.json({
      clientId: client.clientId,
      clientSecret: client.clientSecret,
      redirectUri: REDIRECT_URI,
      codes,
    });
  },
};

export default new OAuthProvider({
  apiRoute: '/api/',
  apiHandler,
  defaultHandler,
  authorizeEndpoint: '/authorize',
  tokenEndpoint: '/oauth/token',
  scopesSupported: ['read'],
  // Required by the library: the one resource this Worker serves (the bench reaches it on loopback port 8798).
  resourceMetadata: {
    resource: 'http://127.0.0.1:8798/api',
    authorization_servers: ['http://127.0.0.1:8798'],
  },
});
