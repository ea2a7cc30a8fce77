/**
 * A real, strict OAuth client (oauth4webapi) against the Worker: discovery (RFC 8414), the code flow with
 * PKCE and state, the RFC 9207 iss check, the code exchange, a refresh, and an error response.
 * The login and consent forms are driven with plain fetch and cookies, as a browser would.
 */
import { exports } from 'cloudflare:workers';
import { decodeJwt } from 'jose';
import * as oauth from 'oauth4webapi';
import { describe, expect, it } from 'vitest';
import { Browser, hiddenFields } from '../authz-helpers';
import { call, ORIGIN, seedClient, seedUser } from '../helpers';

const worker = (exports as unknown as { default: Fetcher }).default;
const options = {
  // Everything goes to the Worker's own fetch handler.
  [oauth.customFetch]: (url: string, init: RequestInit) => worker.fetch(new Request(url, init)),
  // The test issuer is http://localhost:8787 (production issuers are https).
  [oauth.allowInsecureRequests]: true,
};
const CB = 'https://app.example/cb';

async function discover() {
  const issuer = new URL(ORIGIN);
  return oauth.processDiscoveryResponse(
    issuer,
    await oauth.discoveryRequest(issuer, { ...options, algorithm: 'oauth2' }),
  );
}

/** Drives the login and consent pages for `url`, returns the final redirect to the client. */
async function approve(
  url: URL,
  user: { email: string; password: string },
  decision: 'allow' | 'deny' = 'allow',
): Promise<URL> {
  const b = new Browser();
  const path = url.pathname + url.search;
  let res = await b.get(path);
  expect(res.status).toBe(302);
  await (await b.get(res.headers.get('Location')!)).text(); // the login page sets the CSRF cookie
  res = await b.post('/login', { csrf: b.csrf(), next: path, email: user.email, password: user.password });
  expect(res.status).toBe(303);
  res = await b.get(res.headers.get('Location')!);
  expect(res.status).toBe(200);
  res = await b.post('/oauth2/authorize', { ...hiddenFields(await res.text()), decision });
  expect(res.status).toBe(303);
  return new URL(res.headers.get('Location')!);
}

describe('oauth4webapi (strict client)', () => {
  it('discovers, runs the code flow with PKCE, exchanges the code, and refreshes', async () => {
    const as = await discover();
    expect(as.authorization_endpoint).toBe(`${ORIGIN}/oauth2/authorize`);
    const registered = await seedClient();
    const user = await seedUser();
    const client: oauth.Client = { client_id: registered.id };
    const auth = oauth.ClientSecretBasic(registered.secret);

    const verifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const url = new URL(as.authorization_endpoint!);
    url.searchParams.set('client_id', client.client_id);
    url.searchParams.set('redirect_uri', CB);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('scope', 'base files');
    url.searchParams.set('state', state);
    url.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(verifier));
    url.searchParams.set('code_challenge_method', 'S256');

    const callback = await approve(url, user);
    // Checks state and, because the metadata says so, the iss parameter (RFC 9207).
    const params = oauth.validateAuthResponse(as, client, callback, state);
    const response = await oauth.authorizationCodeGrantRequest(as, client, auth, params, CB, verifier, options);
    const tokens = await oauth.processAuthorizationCodeResponse(as, client, response);
    expect(tokens.token_type).toBe('bearer');
    expect(tokens.scope).toBe('base files');
    expect(tokens.refresh_token).toBeTruthy();

    const me = await call('/v1/me', { headers: { Authorization: `Bearer ${tokens.access_token}` } });
    expect(((await me.json()) as { sub: string }).sub).toBe(user.id);

    const refreshed = await oauth.processRefreshTokenResponse(
      as,
      client,
      await oauth.refreshTokenGrantRequest(as, client, auth, tokens.refresh_token!, options),
    );
    expect(refreshed.access_token).not.toBe(tokens.access_token);
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
  });

  it('sends resource (RFC 8707) at the authorization and token endpoints; aud is the resource', async () => {
    const as = await discover();
    const registered = await seedClient();
    const user = await seedUser();
    const client: oauth.Client = { client_id: registered.id };
    const auth = oauth.ClientSecretBasic(registered.secret);
    const resource = `${ORIGIN}/v1`;
    const verifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const url = new URL(as.authorization_endpoint!);
    for (const [k, v] of Object.entries({
      client_id: client.client_id,
      redirect_uri: CB,
      response_type: 'code',
      scope: 'base',
      state,
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      resource,
    }))
      url.searchParams.set(k, v);
    const params = oauth.validateAuthResponse(as, client, await approve(url, user), state);
    const response = await oauth.authorizationCodeGrantRequest(as, client, auth, params, CB, verifier, {
      ...options,
      additionalParameters: { resource },
    });
    const tokens = await oauth.processAuthorizationCodeResponse(as, client, response);
    expect(decodeJwt(tokens.access_token).aud).toBe(resource);
    const refreshed = await oauth.processRefreshTokenResponse(
      as,
      client,
      await oauth.refreshTokenGrantRequest(as, client, auth, tokens.refresh_token!, {
        ...options,
        additionalParameters: { resource },
      }),
    );
    expect(decodeJwt(refreshed.access_token).aud).toBe(resource);
  });

  it('works for a public client (token_endpoint_auth_method none)', async () => {
    const as = await discover();
    const registered = await seedClient({ confidential: false });
    const user = await seedUser();
    const client: oauth.Client = { client_id: registered.id, token_endpoint_auth_method: 'none' };
    const verifier = oauth.generateRandomCodeVerifier();
    const url = new URL(as.authorization_endpoint!);
    for (const [k, v] of Object.entries({
      client_id: client.client_id,
      redirect_uri: CB,
      response_type: 'code',
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    })) {
      url.searchParams.set(k, v);
    }
    const params = oauth.validateAuthResponse(as, client, await approve(url, user), oauth.expectNoState);
    const tokens = await oauth.processAuthorizationCodeResponse(
      as,
      client,
      await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, CB, verifier, options),
    );
    expect(tokens.access_token).toBeTruthy();
  });

  it('sees Deny as an access_denied authorization error', async () => {
    const as = await discover();
    const registered = await seedClient();
    const user = await seedUser();
    const client: oauth.Client = { client_id: registered.id };
    const state = oauth.generateRandomState();
    const url = new URL(as.authorization_endpoint!);
    for (const [k, v] of Object.entries({
      client_id: client.client_id,
      redirect_uri: CB,
      response_type: 'code',
      state,
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
    })) {
      url.searchParams.set(k, v);
    }
    const callback = await approve(url, user, 'deny');
    let error: unknown;
    try {
      oauth.validateAuthResponse(as, client, callback, state);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(oauth.AuthorizationResponseError);
    expect((error as oauth.AuthorizationResponseError).error).toBe('access_denied');
  });
});
