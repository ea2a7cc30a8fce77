/**
 * Issue 13: a Client ID Metadata Document client (an https client_id, no row in `clients`) the user consented to is
 * listed on /apps with the name from its document and the host it is served from, and can be withdrawn there: the
 * consent row goes, its refresh token stops working and the next request asks again. The document is served by
 * intercepting the outbound fetch (test/outbound.ts).
 */
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { authorizePath, Browser, hiddenFields, pkcePair, signIn } from '../authz-helpers';
import { errorOf, expectTokens, seedUser, tokenRequest } from '../helpers';
import { interceptOutbound, jsonDocument } from '../outbound';

const CALLBACK = 'http://localhost:43123/oauth/callback';
const docUrl = () => `https://agent-portal.example.com/clients/${crypto.randomUUID().slice(0, 8)}.json`;
const documentFor = (url: string, name: string) => ({
  client_id: url,
  client_name: name,
  redirect_uris: [CALLBACK],
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  token_endpoint_auth_method: 'none',
});

/** Signs in, allows the document client, and exchanges the code; returns the browser and the tokens. */
async function consentTo(url: string, b = new Browser(), user?: { email: string; password: string }) {
  const { verifier, challenge } = await pkcePair();
  const path = authorizePath({
    response_type: 'code',
    client_id: url,
    redirect_uri: CALLBACK,
    state: 's',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    scope: 'base offline_access',
    prompt: 'consent',
  });
  let res = await b.get(path);
  if (res.status === 302 && user) {
    res = await signIn(b, user.email, user.password, path);
    res = await b.get(res.headers.get('Location')!);
  }
  expect(res.status).toBe(200);
  const back = await b.post('/oauth2/authorize', { ...hiddenFields(await res.text()), decision: 'allow' });
  expect(back.status).toBe(303);
  const code = new URL(back.headers.get('Location')!).searchParams.get('code')!;
  const tokens = await expectTokens(
    await tokenRequest({
      grant_type: 'authorization_code',
      code,
      redirect_uri: CALLBACK,
      client_id: url,
      code_verifier: verifier,
    }),
  );
  return { b, tokens };
}

const consentRow = (userId: string, clientId: string) =>
  env.DB.prepare('SELECT 1 AS one FROM consents WHERE user_id = ?1 AND client_id = ?2').bind(userId, clientId).first();

describe('/apps: consents given to Client ID Metadata Document clients', () => {
  it('lists one by its document’s name and host, and withdraws it (refresh token refused, consent asked again)', async () => {
    const url = docUrl();
    interceptOutbound({ [url]: () => jsonDocument(documentFor(url, 'Portal Agent'), { cacheControl: 'max-age=600' }) });
    const user = await seedUser();
    const { b, tokens } = await consentTo(url, new Browser(), user);
    expect(await env.DB.prepare('SELECT 1 FROM clients WHERE id = ?1').bind(url).first()).toBeNull();
    expect(await consentRow(user.id, url)).not.toBeNull();

    const list = await b.get('/apps');
    expect(list.status).toBe(200);
    const html = await list.text();
    expect(html).toContain('Portal Agent');
    expect(html).toContain('described by <code>agent-portal.example.com</code>');
    expect(html).toContain('Read and change your resources and files');
    const action = `/apps/consents/${encodeURIComponent(url)}/withdraw`;
    expect(html).toContain(`action="${action}"`);

    const res = await b.post(action, { csrf: b.csrf() });
    expect(res.status).toBe(303);
    expect(res.headers.get('Location')).toBe('/apps?done=withdrawn');
    expect(await consentRow(user.id, url)).toBeNull();
    const after = await (await b.get('/apps?done=withdrawn')).text();
    expect(after).toContain('Permission withdrawn');
    expect(after).not.toContain('Portal Agent');
    const refresh = await tokenRequest({
      grant_type: 'refresh_token',
      refresh_token: tokens.refresh_token!,
      client_id: url,
    });
    expect(refresh.status).toBe(400);
    expect((await errorOf(refresh)).error).toBe('invalid_grant');
    const audit = await env.DB.prepare(
      "SELECT actor FROM audit_events WHERE event = 'consent_revoked' AND subject = ?1",
    )
      .bind(url)
      .first<{ actor: string }>();
    expect(audit?.actor).toBe(user.id);
  });

  it('a document that cannot be fetched now is still listed, by its host, and can be withdrawn', async () => {
    const url = docUrl();
    const out = interceptOutbound({ [url]: () => jsonDocument(documentFor(url, 'Gone Agent')) });
    const user = await seedUser();
    const { b } = await consentTo(url, new Browser(), user);
    // The document goes away and the cached copy expires.
    out.route(url, () => new Response('not here', { status: 404 }));
    const keys = await env.CACHE.list({ prefix: 'cimd:' });
    for (const k of keys.keys) await env.CACHE.delete(k.name);
    const html = await (await b.get('/apps')).text();
    expect(html).not.toContain('Gone Agent');
    expect(html).toContain('described by <code>agent-portal.example.com</code>');
    const res = await b.post(`/apps/consents/${encodeURIComponent(url)}/withdraw`, { csrf: b.csrf() });
    expect(res.status).toBe(303);
    expect(await consentRow(user.id, url)).toBeNull();
  });
});
