/** The app registration portal: register, list, edit, rotate, delete, consents. */
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { sha256 } from '../../src/lib/random';
import { authorizeFlow, Browser, signIn } from '../authz-helpers';
import { basic, call, errorOf, expectTokens, seedUser, tokenRequest } from '../helpers';

const CB = 'https://movies.example/oauth/callback';

async function signedInBrowser() {
  const user = await seedUser();
  const b = new Browser();
  await signIn(b, user.email, user.password);
  return { b, user };
}

function register(b: Browser, fields: Record<string, string> = {}) {
  return b.post('/apps', {
    csrf: b.csrf(),
    name: 'Movie Night',
    site_url: 'https://movies.example',
    description: 'Picks a film for tonight',
    logo_url: 'https://movies.example/logo.png',
    redirect_uris: `${CB}\nhttps://movies.example/oauth/failed`,
    scope_base: '1',
    scope_files: '1',
    client_type: 'confidential',
    ...fields,
  });
}

function credentialsOf(html: string): { id: string; secret: string | null } {
  const id = /<dd id="client-id">([^<]+)<\/dd>/.exec(html)?.[1];
  const secret = /<dd id="client-secret">([^<]+)<\/dd>/.exec(html)?.[1] ?? null;
  if (!id) throw new Error('no client id on the page');
  return { id, secret };
}

describe('portal access', () => {
  it('sends a signed-out visitor to the login page', async () => {
    const res = await call('/apps', { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('Location')).toBe('/login?next=%2Fapps');
  });
});

describe('registering an app', () => {
  it('shows client_id and secret once and stores only the hash of the secret', async () => {
    const { b, user } = await signedInBrowser();
    const res = await register(b);
    expect(res.status).toBe(201);
    const html = await res.text();
    const { id, secret } = credentialsOf(html);
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(html).toContain('shown only once');
    const row = await env.DB.prepare('SELECT * FROM clients WHERE id = ?1').bind(id).first<Record<string, unknown>>();
    expect(row).toMatchObject({
      name: 'Movie Night',
      site_url: 'https://movies.example',
      description: 'Picks a film for tonight',
      logo_url: 'https://movies.example/logo.png',
      owner_user_id: user.id,
      confidential: 1,
      require_pkce: 1,
      scopes: 'base files',
      secret_hash: await sha256(secret!),
    });
    expect(JSON.parse(row!.redirect_uris as string)).toEqual([CB, 'https://movies.example/oauth/failed']);
    expect(JSON.parse(row!.grant_types as string)).toEqual(['authorization_code', 'refresh_token']);
    expect(JSON.stringify(row)).not.toContain(secret!);
    // listed, without the secret
    const list = await (await b.get('/apps')).text();
    expect(list).toContain('Movie Night');
    expect(list).toContain(id);
    expect(list).not.toContain(secret!);
  });

  it('the registered app completes the code flow with its secret', async () => {
    const { b } = await signedInBrowser();
    const { id, secret } = credentialsOf(await (await register(b)).text());
    const other = await seedUser();
    const r = await authorizeFlow({ id }, other, { redirectUri: CB, scope: 'files' });
    const t = await expectTokens(
      await tokenRequest(
        { grant_type: 'authorization_code', code: r.code, redirect_uri: CB, code_verifier: r.verifier! },
        { client: { id, secret: secret! } },
      ),
    );
    expect(t.scope).toBe('files');
    expect(t.refresh_token).toBeTruthy();
  });

  it('registers a public app without a secret', async () => {
    const { b } = await signedInBrowser();
    const res = await register(b, {
      client_type: 'public',
      redirect_uris: 'com.example.movies:/callback\nhttp://127.0.0.1/cb',
    });
    expect(res.status).toBe(201);
    const { id, secret } = credentialsOf(await res.text());
    expect(secret).toBeNull();
    const row = await env.DB.prepare('SELECT confidential, secret_hash FROM clients WHERE id = ?1').bind(id).first();
    expect(row).toEqual({ confidential: 0, secret_hash: null });
  });

  it.each([
    ['http://movies.example/cb', 'Plain http is only allowed for loopback'],
    ['https://movies.example/cb#done', 'must not contain a fragment'],
    ['https://*.movies.example/cb', 'Wildcards'],
    ['javascript:alert(1)', 'cannot be used'],
    ['', 'Add at least one redirect URL'],
  ])('refuses the redirect URL %j and says why', async (uri, message) => {
    const { b, user } = await signedInBrowser();
    const res = await register(b, { redirect_uris: uri });
    expect(res.status).toBe(400);
    const html = await res.text();
    expect(html).toContain(message);
    expect(html).toContain('value="Movie Night"'); // the form keeps what was typed
    const n = await env.DB.prepare('SELECT COUNT(*) AS n FROM clients WHERE owner_user_id = ?1')
      .bind(user.id)
      .first<{ n: number }>();
    expect(n!.n).toBe(0);
  });

  it('refuses a missing name, a bad logo URL and no permission, all at once', async () => {
    const { b } = await signedInBrowser();
    const res = await register(b, {
      name: '',
      logo_url: 'http://movies.example/logo.png',
      scope_base: '',
      scope_files: '',
    });
    expect(res.status).toBe(400);
    const html = await res.text();
    expect(html).toContain('Give your application a name.');
    expect(html).toContain('The logo URL must start with https://.');
    expect(html).toContain('Choose at least one permission');
  });
});

describe('managing an app', () => {
  it('edits the app; the new redirect URL works at once', async () => {
    const { b } = await signedInBrowser();
    const { id } = credentialsOf(await (await register(b)).text());
    const edit = await b.get(`/apps/${id}`);
    expect(edit.status).toBe(200);
    expect(await edit.text()).toContain('value="Movie Night"');
    const res = await b.post(`/apps/${id}`, {
      csrf: b.csrf(),
      name: 'Movie Night 2',
      redirect_uris: 'https://movies.example/new-cb',
      scope_base: '1',
    });
    expect(res.status).toBe(303);
    expect(res.headers.get('Location')).toBe('/apps?done=updated');
    expect(await (await b.get('/apps?done=updated')).text()).toContain('Your changes were saved.');
    const other = await seedUser();
    const r = await authorizeFlow({ id }, other, { redirectUri: 'https://movies.example/new-cb' });
    expect(r.location.startsWith('https://movies.example/new-cb?code=')).toBe(true);
  });

  it("another user cannot see, edit, rotate or delete someone's app", async () => {
    const { b } = await signedInBrowser();
    const { id } = credentialsOf(await (await register(b)).text());
    const { b: mallory } = await signedInBrowser();
    expect((await mallory.get(`/apps/${id}`)).status).toBe(404);
    expect(
      (
        await mallory.post(`/apps/${id}`, {
          csrf: mallory.csrf(),
          name: 'pwned',
          redirect_uris: 'https://evil.example/cb',
          scope_base: '1',
        })
      ).status,
    ).toBe(404);
    expect((await mallory.post(`/apps/${id}/rotate`, { csrf: mallory.csrf() })).status).toBe(404);
    expect((await mallory.post(`/apps/${id}/delete`, { csrf: mallory.csrf() })).status).toBe(404);
    expect(await (await mallory.get('/apps')).text()).not.toContain(id);
    const row = await env.DB.prepare('SELECT name FROM clients WHERE id = ?1').bind(id).first();
    expect(row).toEqual({ name: 'Movie Night' });
  });

  it('rotates the secret: the new one works, the old one no longer does', async () => {
    const { b } = await signedInBrowser();
    const { id, secret: old } = credentialsOf(await (await register(b)).text());
    const res = await b.post(`/apps/${id}/rotate`, { csrf: b.csrf() });
    expect(res.status).toBe(200);
    const { secret: fresh } = credentialsOf(await res.text());
    expect(fresh).not.toBe(old);
    const probe = (secret: string) =>
      tokenRequest(
        { grant_type: 'refresh_token', refresh_token: 'x' },
        { headers: { Authorization: basic(id, secret) } },
      );
    expect((await probe(old!)).status).toBe(401);
    expect((await errorOf(await probe(fresh!))).error).toBe('invalid_grant'); // authenticated; only the token is bogus
  });

  it('deletes the app: its tokens stop working', async () => {
    const { b } = await signedInBrowser();
    const { id, secret } = credentialsOf(await (await register(b)).text());
    const other = await seedUser();
    const r = await authorizeFlow({ id }, other, { redirectUri: CB });
    const t = await expectTokens(
      await tokenRequest(
        { grant_type: 'authorization_code', code: r.code, redirect_uri: CB, code_verifier: r.verifier! },
        { client: { id, secret: secret! } },
      ),
    );
    expect((await call('/v1/me', { headers: { Authorization: `Bearer ${t.access_token}` } })).status).toBe(200);
    const res = await b.post(`/apps/${id}/delete`, { csrf: b.csrf() });
    expect(res.status).toBe(303);
    expect(res.headers.get('Location')).toBe('/apps?done=deleted');
    expect((await call('/v1/me', { headers: { Authorization: `Bearer ${t.access_token}` } })).status).toBe(401);
    expect(
      (
        await tokenRequest(
          { grant_type: 'refresh_token', refresh_token: t.refresh_token! },
          { client: { id, secret: secret! } },
        )
      ).status,
    ).toBe(401);
    expect(await env.DB.prepare('SELECT id FROM clients WHERE id = ?1').bind(id).first()).toBeNull();
    expect(await (await b.get('/apps')).text()).not.toContain(id);
  });
});

describe('consents given to other apps', () => {
  it('lists them and withdraws one: the refresh token dies and the consent page comes back', async () => {
    const { b: dev } = await signedInBrowser();
    const { id, secret } = credentialsOf(await (await register(dev)).text());
    const user = await seedUser();
    const r = await authorizeFlow({ id }, user, { redirectUri: CB, scope: 'base files' });
    const t = await expectTokens(
      await tokenRequest(
        { grant_type: 'authorization_code', code: r.code, redirect_uri: CB, code_verifier: r.verifier! },
        { client: { id, secret: secret! } },
      ),
    );
    const list = await (await r.browser.get('/apps')).text();
    expect(list).toContain('Applications you have allowed');
    expect(list).toContain('Movie Night');
    expect(list).toContain('Only view your images and files');
    const res = await r.browser.post(`/apps/consents/${id}/withdraw`, { csrf: r.browser.csrf() });
    expect(res.status).toBe(303);
    expect(await (await r.browser.get('/apps?done=withdrawn')).text()).toContain('Permission withdrawn');
    expect(
      (
        await errorOf(
          await tokenRequest(
            { grant_type: 'refresh_token', refresh_token: t.refresh_token! },
            { client: { id, secret: secret! } },
          ),
        )
      ).error,
    ).toBe('invalid_grant');
    const again = await r.browser.get(
      `/oauth2/authorize?response_type=code&client_id=${id}&redirect_uri=${encodeURIComponent(CB)}&scope=files&code_challenge=${'a'.repeat(43)}&code_challenge_method=S256`,
    );
    expect(again.status).toBe(200); // the consent page, not a silent code
    expect(await again.text()).toContain('value="allow"');
  });
});
