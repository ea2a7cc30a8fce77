/**
 * Issue 13: Client ID Metadata Documents end to end over HTTP: the document is served by intercepting the outbound
 * fetch (test/outbound.ts), so the product keeps https-only with no switch.
 */
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { authorizePath, Browser, hiddenFields, pkcePair, signIn } from '../authz-helpers';
import { call, errorOf, expectTokens, seedUser, tokenRequest } from '../helpers';
import { interceptOutbound, jsonDocument } from '../outbound';

let n = 0;
const docUrl = () => `https://agent.example.com/oauth/client-${++n}-${crypto.randomUUID().slice(0, 8)}.json`;
const CALLBACK = 'http://localhost:33418/oauth/callback';

function documentFor(url: string, extra: Record<string, unknown> = {}) {
  return {
    client_id: url,
    client_name: 'Example Agent',
    redirect_uris: [CALLBACK],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
    ...extra,
  };
}

async function consentPage(clientId: string, redirectUri = 'http://localhost:50001/oauth/callback') {
  const user = await seedUser();
  const b = new Browser();
  const { verifier, challenge } = await pkcePair();
  const path = authorizePath({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: redirectUri,
    state: 's1',
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  let res = await b.get(path);
  if (res.status === 302) {
    res = await signIn(b, user.email, user.password, path);
    res = await b.get(res.headers.get('Location')!);
  }
  return { res, b, verifier, redirectUri };
}

describe('Client ID Metadata Documents', () => {
  it('AS metadata says client_id_metadata_document_supported', async () => {
    const meta = (await (await call('/.well-known/oauth-authorization-server')).json()) as Record<string, unknown>;
    expect(meta.client_id_metadata_document_supported).toBe(true);
  });

  it('a valid document: consent shows the redirect host and the localhost warning, code and refresh work, fetched once', async () => {
    const url = docUrl();
    const out = interceptOutbound({ [url]: () => jsonDocument(documentFor(url), { cacheControl: 'max-age=600' }) });
    const { res, b, verifier, redirectUri } = await consentPage(url);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('<strong id="redirect-host">localhost:50001</strong>');
    expect(html).toContain('id="localhost-warning"');
    expect(html).toContain('Example Agent');
    const back = await b.post('/oauth2/authorize', { ...hiddenFields(html), decision: 'allow' });
    expect(back.status).toBe(303);
    const code = new URL(back.headers.get('Location')!).searchParams.get('code')!;
    const tokens = await expectTokens(
      await tokenRequest({
        grant_type: 'authorization_code',
        code,
        redirect_uri: redirectUri,
        client_id: url,
        code_verifier: verifier,
      }),
    );
    const refreshed = await expectTokens(
      await tokenRequest({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token!, client_id: url }),
    );
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    // Cached in KV: the whole flow fetched the document once, with redirect: manual.
    expect(out.requests.map((r) => [r.url, r.redirect])).toEqual([[url, 'manual']]);
    expect(await env.DB.prepare('SELECT 1 FROM clients WHERE id = ?1').bind(url).first()).toBeNull();
  });

  it('consent is shown again even after the user allowed it (never skipped)', async () => {
    const url = docUrl();
    interceptOutbound({ [url]: () => jsonDocument(documentFor(url)) });
    const { res, b } = await consentPage(url);
    const html = await res.text();
    await b.post('/oauth2/authorize', { ...hiddenFields(html), decision: 'allow' });
    const { challenge } = await pkcePair();
    const again = await b.get(
      authorizePath({
        response_type: 'code',
        client_id: url,
        redirect_uri: CALLBACK,
        code_challenge: challenge,
        code_challenge_method: 'S256',
      }),
    );
    expect(again.status).toBe(200);
  });

  const broken: Array<[string, (url: string) => Response, RegExp]> = [
    ['client_id differs', (u) => jsonDocument(documentFor(`${u}x`)), /"client_id" is not exactly the URL/],
    ['a client secret', (u) => jsonDocument(documentFor(u, { client_secret: 's' })), /contains a client secret/],
    [
      'a shared-secret method',
      (u) => jsonDocument(documentFor(u, { token_endpoint_auth_method: 'client_secret_basic' })),
      /must be "none" or "private_key_jwt"/,
    ],
    ['no redirect_uris', (u) => jsonDocument(documentFor(u, { redirect_uris: [] })), /lists no "redirect_uris"/],
    [
      'client_credentials',
      (u) => jsonDocument(documentFor(u, { grant_types: ['authorization_code', 'client_credentials'] })),
      /cannot use the client_credentials|only use the authorization_code and refresh_token grants/,
    ],
    [
      'private_key_jwt without keys',
      (u) => jsonDocument(documentFor(u, { token_endpoint_auth_method: 'private_key_jwt' })),
      /exactly one of "jwks" and "jwks_uri"/,
    ],
    [
      'a redirect',
      () => new Response(null, { status: 301, headers: { Location: 'https://127.0.0.1/x' } }),
      /redirects are not followed/,
    ],
    ['HTML', () => jsonDocument('<html>', { type: 'text/html' }), /not served as application\/json/],
    [
      'too big',
      (u) => jsonDocument(documentFor(u, { client_name: 'x'.repeat(90), pad: 'y'.repeat(6000) })),
      /larger than 5120 bytes/,
    ],
  ];
  for (const [what, answer, reason] of broken) {
    it(`a document with ${what}: an error page at /authorize (never a redirect), invalid_client at /token`, async () => {
      const url = docUrl();
      interceptOutbound({ [url]: () => answer(url) });
      const res = await call(authorizePath({ response_type: 'code', client_id: url, redirect_uri: CALLBACK }));
      expect(res.status).toBe(400);
      expect(res.headers.get('Location')).toBeNull();
      expect(res.headers.get('Content-Type')).toMatch(/^text\/html/);
      const html = (await res.text()).replace(/&quot;/g, '"').replace(/&#39;/g, "'");
      expect(html).toContain('could not be used');
      expect(html).not.toContain('not registered');
      expect(html).toMatch(reason);
      const token = await tokenRequest({
        grant_type: 'authorization_code',
        code: 'x',
        client_id: url,
        code_verifier: 'y'.repeat(43),
      });
      const err = await errorOf(token);
      expect(err).toMatchObject({ status: 401, error: 'invalid_client' });
      expect(err.description).toMatch(reason);
    });
  }

  for (const url of ['https://127.0.0.1/client.json', 'https://localhost/client.json', 'https://agent.example.com/']) {
    it(`an SSRF-shaped or path-less client_id (${url}) is refused without a fetch`, async () => {
      const out = interceptOutbound();
      const res = await call(authorizePath({ response_type: 'code', client_id: url, redirect_uri: CALLBACK }));
      expect(res.status).toBe(400);
      expect(await res.text()).toContain('could not be used');
      expect(out.requests).toHaveLength(0);
    });
  }

  it('an http client_id is an unknown client, never fetched (no switch allows http)', async () => {
    const out = interceptOutbound();
    const res = await call(
      authorizePath({ response_type: 'code', client_id: 'http://agent.example.com/c.json', redirect_uri: CALLBACK }),
    );
    expect(res.status).toBe(400);
    expect(out.requests).toHaveLength(0);
  });
});
