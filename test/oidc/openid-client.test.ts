/**
 * Real relying parties against the Worker: openid-client 6 with its default OpenID Connect discovery
 * (/.well-known/openid-configuration), the code flow with PKCE and nonce, ID-token and UserInfo validation, refresh,
 * RP-initiated logout; oauth4webapi's OIDC validation. Only fetch is routed (to the Worker's own handler).
 */
import { exports } from 'cloudflare:workers';
import * as oauth from 'oauth4webapi';
import * as client from 'openid-client';
import { describe, expect, it } from 'vitest';
import { ORIGIN } from '../helpers';
import { CB, oidcAuthorize, setup } from './oidc-helpers';

const worker = (exports as unknown as { default: Fetcher }).default;
const customFetch = (url: string, init: RequestInit) => worker.fetch(new Request(url, init));

describe('openid-client (default discovery)', () => {
  it('code flow with PKCE and nonce, ID token and UserInfo validated, refresh', async () => {
    const { client: registered, user } = await setup();
    const config = await client.discovery(
      new URL(ORIGIN),
      registered.id,
      undefined,
      client.ClientSecretBasic(registered.secret),
      {
        execute: [client.allowInsecureRequests],
        [client.customFetch]: customFetch,
      },
    );
    expect(config.serverMetadata().issuer).toBe(ORIGIN);
    const verifier = client.randomPKCECodeVerifier();
    const nonce = client.randomNonce();
    const state = client.randomState();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: CB,
      scope: 'openid profile email offline_access',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      nonce,
      state,
      prompt: 'consent',
    });
    const flow = await oidcAuthorize(registered, user, Object.fromEntries(url.searchParams));
    const tokens = await client.authorizationCodeGrant(config, flow.location, {
      pkceCodeVerifier: verifier,
      expectedNonce: nonce,
      expectedState: state,
      idTokenExpected: true,
    });
    const claims = tokens.claims()!;
    expect(claims).toMatchObject({ iss: ORIGIN, sub: user.id, aud: registered.id, nonce });
    expect(tokens.refresh_token).toBeTruthy();
    const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
    expect(info).toMatchObject({ sub: user.id, email: user.email, email_verified: false });
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!);
    expect(refreshed.access_token).toBeTruthy();
  });

  it('RP-initiated logout through buildEndSessionUrl ends the session and returns with state', async () => {
    const { client: registered, user } = await setup({
      oidc: { post_logout_redirect_uris: ['https://app.example/bye'] },
    });
    const config = await client.discovery(
      new URL(ORIGIN),
      registered.id,
      undefined,
      client.ClientSecretBasic(registered.secret),
      { execute: [client.allowInsecureRequests], [client.customFetch]: customFetch },
    );
    const verifier = client.randomPKCECodeVerifier();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: CB,
      scope: 'openid',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state: 's1',
    });
    const flow = await oidcAuthorize(registered, user, Object.fromEntries(url.searchParams));
    const tokens = await client.authorizationCodeGrant(config, flow.location, {
      pkceCodeVerifier: verifier,
      expectedState: 's1',
    });
    const end = client.buildEndSessionUrl(config, {
      id_token_hint: tokens.id_token!,
      post_logout_redirect_uri: 'https://app.example/bye',
      state: 'bye',
    });
    expect(end.origin + end.pathname).toBe(`${ORIGIN}/oauth2/logout`);
    const res = await flow.browser.get(end.pathname + end.search);
    expect(res.status).toBe(302);
    expect(res.headers.get('Location')).toBe('https://app.example/bye?state=bye');
    // The session is gone on the server: a silent request now needs a sign-in.
    const silent = client.buildAuthorizationUrl(config, { redirect_uri: CB, scope: 'openid', prompt: 'none' });
    const again = await flow.browser.get(silent.pathname + silent.search);
    expect(new URL(again.headers.get('Location')!).searchParams.get('error')).toBe('login_required');
  });
});

describe('oauth4webapi (OIDC validation)', () => {
  it('processAuthorizationCodeResponse with expectedNonce validates the ID token', async () => {
    const { client: registered, user } = await setup();
    const issuer = new URL(ORIGIN);
    const options = { [oauth.customFetch]: customFetch, [oauth.allowInsecureRequests]: true };
    const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, options));
    const c: oauth.Client = { client_id: registered.id };
    const verifier = oauth.generateRandomCodeVerifier();
    const nonce = oauth.generateRandomNonce();
    const flow = await oidcAuthorize(registered, user, {
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
      nonce,
      state: undefined,
    });
    const params = oauth.validateAuthResponse(as, c, flow.location, oauth.expectNoState);
    const res = await oauth.authorizationCodeGrantRequest(
      as,
      c,
      oauth.ClientSecretBasic(registered.secret),
      params,
      CB,
      verifier,
      options,
    );
    const result = await oauth.processAuthorizationCodeResponse(as, c, res, {
      expectedNonce: nonce,
      requireIdToken: true,
    });
    const claims = oauth.getValidatedIdTokenClaims(result)!;
    expect(claims.sub).toBe(user.id);
    // The Basic OP profile: no refresh token without offline_access when openid is asked for (Core §11).
    expect(result.refresh_token).toBeUndefined();
  });
});
