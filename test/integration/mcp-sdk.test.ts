/**
 * Issue 13 "Done when": the MCP TypeScript SDK's own `auth()` (@modelcontextprotocol/sdk 1.32.2, pinned) with an
 * OAuthClientProvider, against the Worker from a cold start, in workerd: the SDK loads there, so its HTTP goes through
 * `fetchFn` to the Worker's fetch handler (with REGISTRATION_POLICY open-public, as `npm start` runs it), the browser
 * part (sign-in, consent) is the form-posting Browser of test/authz-helpers.ts, and the client's metadata document is
 * served by intercepting the product's outbound fetch (test/outbound.ts).
 */
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { auth, extractWWWAuthenticateParams, type OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from '@modelcontextprotocol/sdk/shared/auth.js';
import { describe, expect, it } from 'vitest';
import { app } from '../../src/app';
import { Browser, hiddenFields, signIn } from '../authz-helpers';
import { ORIGIN, seedUser } from '../helpers';
import { interceptOutbound, jsonDocument } from '../outbound';

const SERVER_URL = `${ORIGIN}/v1/me`;
const CALLBACK = 'http://localhost:33418/oauth/callback';

/** Every request of the SDK, to the Worker as `npm start` configures it; the paths are recorded. */
function workerFetch(paths: string[]) {
  return async (input: string | URL, init?: RequestInit): Promise<Response> => {
    const req = new Request(input, init);
    paths.push(`${req.method} ${new URL(req.url).pathname}`);
    const ctx = createExecutionContext();
    const res = await app.fetch(req, { ...env, REGISTRATION_POLICY: 'open-public' }, ctx);
    await waitOnExecutionContext(ctx);
    return res;
  };
}

class TestProvider implements OAuthClientProvider {
  info?: OAuthClientInformationMixed;
  saved?: OAuthTokens;
  verifier = '';
  authorizationUrl?: URL;
  constructor(readonly clientMetadataUrl?: string) {}
  get redirectUrl() {
    return CALLBACK;
  }
  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: 'SDK test client',
      redirect_uris: [CALLBACK],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      scope: 'base',
    };
  }
  clientInformation() {
    return this.info;
  }
  saveClientInformation(info: OAuthClientInformationMixed) {
    this.info = info;
  }
  tokens() {
    return this.saved;
  }
  saveTokens(tokens: OAuthTokens) {
    this.saved = tokens;
  }
  redirectToAuthorization(url: URL) {
    this.authorizationUrl = url;
  }
  saveCodeVerifier(v: string) {
    this.verifier = v;
  }
  codeVerifier() {
    return this.verifier;
  }
}

/** Sign-in and consent by form posts, as the user's browser would; returns the code the redirect carries. */
async function approve(url: URL): Promise<string> {
  const user = await seedUser();
  const b = new Browser();
  const path = `${url.pathname}${url.search}`;
  let res = await b.get(path);
  expect(res.status).toBe(302);
  res = await signIn(b, user.email, user.password, path);
  res = await b.get(res.headers.get('Location')!);
  expect(res.status).toBe(200);
  res = await b.post('/oauth2/authorize', { ...hiddenFields(await res.text()), decision: 'allow' });
  const back = new URL(res.headers.get('Location')!);
  expect(`${back.origin}${back.pathname}`).toBe(CALLBACK);
  expect(back.searchParams.get('iss')).toBe(ORIGIN);
  return back.searchParams.get('code')!;
}

async function runFlow(provider: TestProvider, paths: string[]) {
  const fetchFn = workerFetch(paths);
  // Discovery starts from the 401 of the protected resource.
  const unauthorized = await fetchFn(SERVER_URL);
  expect(unauthorized.status).toBe(401);
  const { resourceMetadataUrl } = extractWWWAuthenticateParams(unauthorized);
  // RFC 9728 §5.1: the challenge names /v1's protected-resource metadata, which names this authorization server.
  expect(resourceMetadataUrl?.href).toBe(`${ORIGIN}/.well-known/oauth-protected-resource/v1`);

  expect(await auth(provider, { serverUrl: SERVER_URL, resourceMetadataUrl, fetchFn })).toBe('REDIRECT');
  const url = provider.authorizationUrl!;
  expect(url.searchParams.get('code_challenge_method')).toBe('S256');
  // RFC 8707: the SDK binds the token to the resource its metadata named, and the token's aud is exactly that.
  expect(url.searchParams.get('resource')).toBe(`${ORIGIN}/v1`);
  const code = await approve(url);
  expect(await auth(provider, { serverUrl: SERVER_URL, resourceMetadataUrl, authorizationCode: code, fetchFn })).toBe(
    'AUTHORIZED',
  );
  const first = provider.saved!;
  expect(JSON.parse(atob(first.access_token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/'))).aud).toBe(
    `${ORIGIN}/v1`,
  );
  const me = await fetchFn(SERVER_URL, { headers: { Authorization: `Bearer ${first.access_token}` } });
  expect(me.status).toBe(200);
  // The SDK asks for every scope the resource's metadata lists (MCP 2025-11-25 scope selection).
  expect(await me.json()).toMatchObject({
    type: 'user',
    client_id: provider.info!.client_id,
    scope: 'base files upload_files',
  });

  // The SDK refreshes when it holds a refresh token.
  expect(await auth(provider, { serverUrl: SERVER_URL, resourceMetadataUrl, fetchFn })).toBe('AUTHORIZED');
  expect(provider.saved!.access_token).not.toBe(first.access_token);
  expect(provider.saved!.refresh_token).not.toBe(first.refresh_token);
  const again = await fetchFn(SERVER_URL, { headers: { Authorization: `Bearer ${provider.saved!.access_token}` } });
  expect(again.status).toBe(200);
}

describe('MCP SDK auth() end to end (issue 13)', () => {
  it('discovers, registers openly (localhost callback), authorizes with PKCE, exchanges, calls /v1/me, refreshes', async () => {
    const paths: string[] = [];
    const provider = new TestProvider();
    await runFlow(provider, paths);
    expect(paths).toContain('GET /.well-known/oauth-authorization-server');
    expect(paths).toContain('POST /oauth2/register');
    expect(provider.info).toMatchObject({ token_endpoint_auth_method: 'none' });
  });

  it('identifies itself by a Client ID Metadata Document instead of registering', async () => {
    const docUrl = `https://sdk-client.example.com/oauth/${crypto.randomUUID()}.json`;
    const out = interceptOutbound({
      [docUrl]: () =>
        jsonDocument(
          // The SDK asks for the scopes the resource's metadata lists, so the document names them (docs/mcp.md).
          { client_id: docUrl, ...new TestProvider().clientMetadata, scope: 'base files upload_files' },
          { cacheControl: 'max-age=3600' },
        ),
    });
    const paths: string[] = [];
    const provider = new TestProvider(docUrl);
    await runFlow(provider, paths);
    expect(paths).not.toContain('POST /oauth2/register');
    expect(provider.info?.client_id).toBe(docUrl);
    expect(out.requests.map((r) => r.url)).toEqual([docUrl]);
  });
});
