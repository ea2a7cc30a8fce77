/**
 * Attacks on the authorization-code flow that test/integration/authorize.test.ts, code-grant.test.ts and
 * test/security/pages.test.ts do not already cover (docs/security-tests.md maps each case of issue 6 to its
 * test): more redirect-URI variants, open redirects through a tampered consent form, `state` on every path,
 * CSRF with proof that nothing changed, and anti-framing headers on every page. Black box, over HTTP.
 */
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import {
  authorizeFlow,
  authorizePath,
  Browser,
  hiddenFields,
  locationParams,
  pkcePair,
  signIn,
} from '../authz-helpers';
import { call, errorOf, expectTokens, ORIGIN, seedClient, seedUser, tokenRequest } from '../helpers';

const CB = 'https://app.example/cb';

/** An HTML error page: the status, no Location, and the anti-framing headers. */
async function expectErrorPage(res: Response, status: number, text: RegExp) {
  expect(res.status).toBe(status);
  expect(res.headers.get('Location')).toBeNull();
  expect(res.headers.get('Content-Type')).toMatch(/^text\/html/);
  expectNoFraming(res);
  expect(await res.text()).toMatch(text);
}

function expectNoFraming(res: Response) {
  expect(res.headers.get('Content-Security-Policy')).toContain("frame-ancestors 'none'");
  expect(res.headers.get('X-Frame-Options')).toBe('DENY');
}

async function request(clientId: string, overrides: Record<string, string | undefined> = {}) {
  const { challenge } = await pkcePair();
  return authorizePath({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: CB,
    state: 's',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    ...overrides,
  });
}

/** A signed-in browser on the consent page of a fresh client. */
async function atConsent(state = 's') {
  const client = await seedClient();
  const user = await seedUser();
  const b = new Browser();
  const path = await request(client.id, { state });
  await signIn(b, user.email, user.password, path);
  const res = await b.get(path);
  expect(res.status).toBe(200);
  return { b, client, user, fields: hiddenFields(await res.text()) };
}

const codesOf = async (clientId: string) =>
  (await env.DB.prepare('SELECT count(*) AS n FROM authorization_codes WHERE client_id = ?1')
    .bind(clientId)
    .first<{ n: number }>())!.n;
const consentOf = (userId: string, clientId: string) =>
  env.DB.prepare('SELECT scope_mask FROM consents WHERE user_id = ?1 AND client_id = ?2')
    .bind(userId, clientId)
    .first();

describe('redirect-URI variants are refused with an error page, never a redirect', () => {
  // authorize.test.ts covers trailing slash, host case, added query, another port on a non-loopback host, another site.
  it.each([
    ['userinfo before the real host', 'https://app.example@evil.example/cb'],
    ['userinfo on the registered host', 'https://evil.example@app.example/cb'],
    ['empty password userinfo', 'https://app.example:@evil.example/cb'],
    ['backslash authority trick', 'https://app.example\\@evil.example/cb'],
    ['percent-encoded path character', 'https://app.example/%63b'],
    ['percent-encoded slash', 'https://app.example/cb%2F'],
    ['percent-encoded dot in the host', 'https://app%2Eexample/cb'],
    ['encoded NUL', 'https://app.example/cb%00'],
    ['path case', 'https://app.example/CB'],
    ['scheme case', 'HTTPS://app.example/cb'],
    ['http instead of https', 'http://app.example/cb'],
    ['explicit default port', 'https://app.example:443/cb'],
    ['a fragment', 'https://app.example/cb#x'],
    ['a dot segment', 'https://app.example/x/../cb'],
    ['a subdomain', 'https://evil.app.example/cb'],
    ['a suffix on the host', 'https://app.example.evil.example/cb'],
  ])('%s', async (_what, uri) => {
    const client = await seedClient();
    await expectErrorPage(
      await call(await request(client.id, { redirect_uri: uri }), { redirect: 'manual' }),
      400,
      /not registered/,
    );
  });

  it.each([
    ['other path', 'http://127.0.0.1:4000/callback/'],
    ['localhost for 127.0.0.1', 'http://localhost:4000/callback'],
    ['userinfo after the port', 'http://127.0.0.1:4000@evil.example/callback'],
    ['IPv6 loopback for IPv4', 'http://[::1]:4000/callback'],
  ])('loopback: any port, but not %s', async (_what, uri) => {
    const client = await seedClient({ redirectUris: ['http://127.0.0.1/callback'] });
    await expectErrorPage(
      await call(await request(client.id, { redirect_uri: uri }), { redirect: 'manual' }),
      400,
      /not registered/,
    );
  });

  it('the token endpoint refuses every variant with invalid_grant, and the code survives for the exact URI', async () => {
    const client = await seedClient();
    const user = await seedUser();
    const r = await authorizeFlow(client, user);
    for (const uri of [
      'https://app.example/cb/',
      'https://APP.example/cb',
      'https://app.example/cb?x=1',
      'https://app.example@evil.example/cb',
      'https://app.example/%63b',
      'https://app.example:443/cb',
    ]) {
      const res = await tokenRequest(
        { grant_type: 'authorization_code', code: r.code, redirect_uri: uri, code_verifier: r.verifier! },
        { client },
      );
      expect(await errorOf(res), uri).toMatchObject({
        status: 400,
        error: 'invalid_grant',
        description: expect.stringMatching(/redirect_uri differs/),
      });
    }
    await expectTokens(
      await tokenRequest(
        { grant_type: 'authorization_code', code: r.code, redirect_uri: CB, code_verifier: r.verifier! },
        { client },
      ),
    );
  });
});

describe('no open redirect on any error path', () => {
  it('a consent form posted with a tampered redirect_uri or client_id: error page, no code', async () => {
    const { b, client, fields } = await atConsent();
    const other = await seedClient({ redirectUris: ['https://evil.example/cb'] });
    const tampered: [Record<string, string>, RegExp][] = [
      [{ redirect_uri: 'https://evil.example/cb' }, /not registered/],
      [{ redirect_uri: 'https://app.example@evil.example/cb' }, /not registered/],
      [{ client_id: 'nope' }, /not registered/],
      [{ client_id: other.id }, /not registered/], // the other client's own URI is not this request's; ours is not the other's
    ];
    for (const [change, text] of tampered) {
      const res = await b.post('/oauth2/authorize', { ...fields, ...change, decision: 'allow' });
      await expectErrorPage(res, 400, text);
    }
    expect(await codesOf(client.id)).toBe(0);
    expect(await codesOf(other.id)).toBe(0);
  });

  it('a Deny with a tampered redirect_uri: error page, no redirect', async () => {
    const { b, fields } = await atConsent();
    await expectErrorPage(
      await b.post('/oauth2/authorize', { ...fields, redirect_uri: 'https://evil.example/cb', decision: 'deny' }),
      400,
      /not registered/,
    );
  });

  it('the login page only ever sends the browser to a path on this server', async () => {
    const user = await seedUser();
    for (const next of [
      '///evil.example/x',
      '/\t/evil.example',
      '\\\\evil.example',
      'https:evil.example',
      ' //evil.example',
      '/\\/evil.example',
      'javascript:alert(1)',
    ]) {
      const res = await signIn(new Browser(), user.email, user.password, next);
      expect({ status: res.status, location: res.headers.get('Location') }, JSON.stringify(next)).toEqual({
        status: 303,
        location: '/apps',
      });
    }
  });

  it('an unknown client on a signed-in session still gets the error page, not the login or a redirect', async () => {
    const user = await seedUser();
    const b = new Browser();
    await signIn(b, user.email, user.password);
    await expectErrorPage(
      await b.get(await request('nope', { redirect_uri: 'https://evil.example/cb' })),
      400,
      /not registered/,
    );
  });
});

describe('state is echoed unchanged', () => {
  const STATE = `é ü 日本 %41 %zz + & = ? # / \\ " ' < > ${'x'.repeat(300)}`;

  it('on success, after sign-in and after a remembered consent', async () => {
    const client = await seedClient();
    const user = await seedUser();
    const first = await authorizeFlow(client, user, { state: STATE });
    expect(first.state).toBe(STATE);
    const again = await authorizeFlow(client, user, { state: `${STATE}2`, browser: first.browser });
    expect(again.state).toBe(`${STATE}2`);
  });

  it('on Deny and on an error found when the consent form comes back', async () => {
    const { b, fields } = await atConsent(STATE);
    expect(fields.state).toBe(STATE);
    const deny = await b.post('/oauth2/authorize', { ...fields, decision: 'deny' });
    expect(deny.status).toBe(303);
    expect(locationParams(deny).get('state')).toBe(STATE);
    const badScope = await b.post('/oauth2/authorize', { ...fields, scope: 'admin', decision: 'allow' });
    expect(badScope.status).toBe(303);
    expect(Object.fromEntries(locationParams(badScope))).toMatchObject({
      error: 'invalid_scope',
      state: STATE,
      iss: ORIGIN,
    });
    expect(badScope.headers.get('Location')!.startsWith(`${CB}?`)).toBe(true);
  });

  it('and absent when the client sent none, on success and on error', async () => {
    const client = await seedClient();
    const user = await seedUser();
    const b = new Browser();
    const path = await request(client.id, { state: undefined });
    await signIn(b, user.email, user.password, path);
    const fields = hiddenFields(await (await b.get(path)).text());
    const ok = await b.post('/oauth2/authorize', { ...fields, decision: 'allow' });
    expect(locationParams(ok).has('code')).toBe(true);
    expect(locationParams(ok).has('state')).toBe(false);
    const err = await b.get(await request(client.id, { state: undefined, response_type: 'token' }));
    expect(locationParams(err).get('error')).toBe('unsupported_response_type');
    expect(locationParams(err).has('state')).toBe(false);
  });
});

describe('CSRF: a refused form changes nothing', () => {
  it('consent: no token, a wrong token, another Origin, cross-site or same-site Sec-Fetch-Site, no cookie: 403 page, no code, no consent', async () => {
    const { b, client, user, fields } = await atConsent();
    const { csrf, ...noToken } = fields;
    const allow = { ...fields, decision: 'allow' };
    const attempts: [string, () => Promise<Response>][] = [
      ['no token', () => b.post('/oauth2/authorize', { ...noToken, decision: 'allow' })],
      ['empty token', () => b.post('/oauth2/authorize', { ...allow, csrf: '' })],
      [
        'wrong token',
        () => b.post('/oauth2/authorize', { ...allow, csrf: `${csrf.slice(0, -1)}${csrf.endsWith('A') ? 'B' : 'A'}` }),
      ],
      ['another Origin', () => b.post('/oauth2/authorize', allow, { Origin: 'https://evil.example' })],
      ['Sec-Fetch-Site cross-site', () => b.post('/oauth2/authorize', allow, { 'Sec-Fetch-Site': 'cross-site' })],
      [
        'Sec-Fetch-Site same-site (a sibling subdomain)',
        () => b.post('/oauth2/authorize', allow, { 'Sec-Fetch-Site': 'same-site' }),
      ],
      ['an Origin differing by port', () => b.post('/oauth2/authorize', allow, { Origin: `${ORIGIN}0` })],
      [
        'no CSRF cookie',
        () => {
          const stranger = new Browser();
          stranger.jar.set('__Host-session', b.jar.get('__Host-session')!); // the victim's session, the attacker's form
          return stranger.post('/oauth2/authorize', allow);
        },
      ],
    ];
    for (const [what, attempt] of attempts) {
      const res = await attempt();
      expect(res.status, what).toBe(403);
      expect(res.headers.get('Location'), what).toBeNull();
      expectNoFraming(res);
      expect(await res.text(), what).toMatch(/sent from another site/);
    }
    expect(await codesOf(client.id)).toBe(0);
    expect(await consentOf(user.id, client.id)).toBeNull();
    // control: the same form from the page itself goes through
    const ok = await b.post('/oauth2/authorize', allow);
    expect(ok.status).toBe(303);
    expect(await codesOf(client.id)).toBe(1);
  });

  it('portal: create, edit, rotate, delete and withdraw are refused without the right token or from another site', async () => {
    const dev = new Browser();
    const owner = await seedUser();
    await signIn(dev, owner.email, owner.password);
    const created = await dev.post('/apps', {
      csrf: dev.csrf(),
      name: 'Kept',
      redirect_uris: CB,
      scope_base: '1',
      client_type: 'confidential',
    });
    expect(created.status).toBe(201);
    const id = /<dd id="client-id">([^<]+)<\/dd>/.exec(await created.text())![1];
    const user = await seedUser();
    const flow = await authorizeFlow({ id }, user); // a consent to withdraw
    const u = flow.browser;

    const snapshot = async () => ({
      clients: await env.DB.prepare('SELECT id, name, redirect_uris, secret_hash FROM clients WHERE owner_user_id = ?1')
        .bind(owner.id)
        .all()
        .then((r) => r.results),
      consent: await consentOf(user.id, id),
    });
    const before = await snapshot();
    const forms: [Browser, string, Record<string, string>][] = [
      [
        dev,
        '/apps',
        { name: 'Forged', redirect_uris: 'https://evil.example/cb', scope_base: '1', client_type: 'confidential' },
      ],
      [dev, `/apps/${id}`, { name: 'Pwned', redirect_uris: 'https://evil.example/cb', scope_base: '1' }],
      [dev, `/apps/${id}/rotate`, {}],
      [dev, `/apps/${id}/delete`, {}],
      [u, `/apps/consents/${id}/withdraw`, {}],
    ];
    for (const [b, path, fields] of forms) {
      const token = b.csrf();
      const attempts: [string, Record<string, string>, Record<string, string>][] = [
        ['no token', fields, {}],
        ['wrong token', { ...fields, csrf: 'A'.repeat(43) }, {}],
        ['another Origin', { ...fields, csrf: token }, { Origin: 'https://evil.example' }],
        ['Sec-Fetch-Site cross-site', { ...fields, csrf: token }, { 'Sec-Fetch-Site': 'cross-site' }],
      ];
      for (const [what, body, headers] of attempts) {
        const res = await b.post(path, body, headers);
        expect(res.status, `${path}: ${what}`).toBe(403);
        expect(res.headers.get('Location'), `${path}: ${what}`).toBeNull();
        expectNoFraming(res);
      }
    }
    expect(await snapshot()).toEqual(before);
    expect(before.consent).not.toBeNull();
  });
});

describe('clickjacking: every page forbids framing', () => {
  it("login, consent, portal and error pages send frame-ancestors 'none' and X-Frame-Options: DENY", async () => {
    const { b, client } = await atConsent();
    const pages: [string, Promise<Response>][] = [
      ['login', call('/login')],
      ['login for an authorization request', call(`/login?next=${encodeURIComponent(await request(client.id))}`)],
      ['consent', b.get(await request(client.id))],
      ['portal list', b.get('/apps')],
      ['portal new app', b.get('/apps/new')],
      ['portal: unknown app (404 page)', b.get('/apps/cl_nope')],
      ['error page: unknown client', call(await request('nope'))],
      ['error page: 405', call('/oauth2/authorize', { method: 'PUT' })],
      [
        'error page: 415',
        call('/oauth2/authorize', { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: 'x' }),
      ],
      ['error page: CSRF 403', b.post('/oauth2/authorize', { decision: 'allow' })],
      ['signed-out portal redirect', call('/apps', { redirect: 'manual' })],
    ];
    for (const [what, pending] of pages) {
      const res = await pending;
      expect(res.headers.get('Content-Security-Policy'), what).toContain("frame-ancestors 'none'");
      expect(res.headers.get('X-Frame-Options'), what).toBe('DENY');
      await res.arrayBuffer();
    }
  });
});
