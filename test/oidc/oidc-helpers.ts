/** Helpers for the OpenID Connect tests: an OIDC authorization request driven through sign-in and consent. */
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { expect } from 'vitest';
import { authorizePath, Browser, hiddenFields, pkcePair, signIn } from '../authz-helpers';
import { expectTokens, seedClient, seedUser, type TestClient, tokenRequest } from '../helpers';

export const CB = 'https://app.example/cb';

export interface OidcFlow {
  browser: Browser;
  /** The final redirect back to the client. */
  location: URL;
  verifier: string;
}

/** Runs authorize (with `extra` parameters) → sign in if asked → consent if shown; returns the redirect. */
export async function oidcAuthorize(
  client: { id: string },
  user: { email: string; password: string },
  extra: Record<string, string | undefined> = {},
  browser = new Browser(),
): Promise<OidcFlow> {
  const { verifier, challenge } = await pkcePair();
  const path = authorizePath({
    response_type: 'code',
    client_id: client.id,
    redirect_uri: CB,
    scope: 'openid',
    state: 'st-1',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    ...extra,
  });
  let res = await browser.get(path);
  for (let i = 0; i < 3 && res.status === 302 && res.headers.get('Location')!.startsWith('/login?'); i++) {
    const login = res.headers.get('Location')!;
    const next = new URL(login, 'http://x').searchParams.get('next')!;
    await (await browser.get(login)).text();
    res = await browser.post('/login', { csrf: browser.csrf(), next, email: user.email, password: user.password });
    expect(res.status).toBe(303);
    res = await browser.get(res.headers.get('Location')!);
  }
  if (res.status === 200) {
    const fields = hiddenFields(await res.text());
    res = await browser.post('/oauth2/authorize', { ...fields, decision: 'allow' });
  }
  const loc = res.headers.get('Location');
  if (!loc) throw new Error(`expected a redirect, got ${res.status}: ${await res.text()}`);
  return { browser, location: new URL(loc), verifier };
}

/** Exchanges the code of a flow; returns the token response. */
export async function exchange(client: TestClient, flow: OidcFlow) {
  const code = flow.location.searchParams.get('code');
  if (!code) throw new Error(`no code in ${flow.location}`);
  return expectTokens(
    await tokenRequest(
      { grant_type: 'authorization_code', code, redirect_uri: CB, code_verifier: flow.verifier },
      { client },
    ),
  ) as Promise<Awaited<ReturnType<typeof expectTokens>> & { id_token?: string }>;
}

export function idClaims(idToken: string) {
  return { header: decodeProtectedHeader(idToken), claims: decodeJwt(idToken) };
}

/** A fresh confidential client and user. */
export async function setup(overrides: Parameters<typeof seedClient>[0] = {}) {
  const client = await seedClient(overrides);
  const user = await seedUser();
  return { client, user };
}

export { signIn };
