/**
 * The local demo's callback page (src/routes/demo.ts): present only with DEMO_CALLBACK_CLIENT_ID (as `npm start`
 * sets it), showing code, state and iss or the error, and a token request that really exchanges the code.
 */

import { createExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { app } from '../../src/app';
import { contentSecurityPolicy } from '../../src/ui/render';
import { authorizePath, Browser, hiddenFields, signIn } from '../authz-helpers';
import { basic, call, expectTokens, ORIGIN, seedClient, seedUser } from '../helpers';

// RFC 7636 Appendix B: the verifier/challenge pair the README's walkthrough uses.
const VERIFIER = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
const CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';
const CALLBACK = 'http://127.0.0.1:8787/demo/callback';

/** The Worker as `npm start` runs it: the demo var set. */
const demoFetch = (url: string, clientId = 'demo-client') =>
  app.fetch(new Request(url), { ...env, DEMO_CALLBACK_CLIENT_ID: clientId }, createExecutionContext());

const unescapeHtml = (s: string) =>
  s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');
const curlOf = (html: string) => unescapeHtml(/<pre id="curl"><code>([\s\S]*?)<\/code><\/pre>/.exec(html)?.[1] ?? '');

describe('/demo/callback', () => {
  it('does not exist without DEMO_CALLBACK_CLIENT_ID: the same 404 as any unknown path', async () => {
    const res = await call('/demo/callback?code=abc&state=xyz');
    const unknown = await call('/no/such/path');
    expect(res.status).toBe(404);
    expect(res.headers.get('Content-Type')).toBe(unknown.headers.get('Content-Type'));
    expect(await res.json()).toEqual(await unknown.json());
    // An empty value (a deploy that lists the var without a value) is unset too.
    expect((await demoFetch(`${ORIGIN}/demo/callback?code=abc`, '')).status).toBe(404);
  });

  it('shows code, state and iss with the page headers, and a curl that exchanges the code', async () => {
    const client = await seedClient({
      id: `demo-${crypto.randomUUID().slice(0, 8)}`,
      redirectUris: ['http://127.0.0.1/demo/callback'],
    });
    const user = await seedUser();
    // The README's walkthrough: the authorize URL with the RFC 7636 example challenge, sign in, Allow.
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(VERIFIER)));
    expect(
      btoa(String.fromCharCode(...digest))
        .replace(/\+/g, '-')
        .replace(/\//g, '_')
        .replace(/=+$/, ''),
    ).toBe(CHALLENGE);
    const b = new Browser();
    const path = authorizePath({
      response_type: 'code',
      client_id: client.id,
      redirect_uri: CALLBACK,
      scope: 'base',
      state: 'demo-state',
      code_challenge: CHALLENGE,
      code_challenge_method: 'S256',
    });
    const signedIn = await signIn(b, user.email, user.password, path);
    expect(signedIn.status).toBe(303);
    const consent = await b.get(signedIn.headers.get('Location')!);
    const allowed = await b.post('/oauth2/authorize', { ...hiddenFields(await consent.text()), decision: 'allow' });
    const location = allowed.headers.get('Location')!;
    expect(location.startsWith(`${CALLBACK}?`)).toBe(true);
    const code = new URL(location).searchParams.get('code')!;

    const res = await demoFetch(location, client.id);
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Type')).toBe('text/html; charset=UTF-8');
    expect(res.headers.get('Content-Security-Policy')).toBe(contentSecurityPolicy());
    expect(res.headers.get('Cache-Control')).toBe('no-store');
    expect(res.headers.get('Referrer-Policy')).toBe('no-referrer');
    expect(res.headers.get('X-Frame-Options')).toBe('DENY');
    const html = await res.text();
    expect(html).toContain('An authorization code came back');
    expect(html).toContain(`<dt>code</dt><dd>${code}</dd>`);
    expect(html).toContain('<dt>state</dt><dd>demo-state</dd>');
    expect(html).toContain(`<dt>iss</dt><dd>${ORIGIN}</dd>`);
    expect(html).not.toContain('iss-mismatch');
    expect(html).not.toContain('<script');

    const curl = curlOf(html);
    expect(curl).toBe(
      [
        `curl -u '${client.id}:'"$(node -p "require('./demo-credentials.json').client_secret")" '${ORIGIN}/oauth2/token'`,
        '  -d grant_type=authorization_code',
        `  --data-urlencode 'code=${code}'`,
        `  --data-urlencode 'redirect_uri=${CALLBACK}'`,
        `  --data-urlencode 'code_verifier=${VERIFIER}'`,
      ].join(' \\\n'),
    );
    // Run what the curl sends (client_secret_basic with the demo secret, the form fields) and get tokens.
    const fields = [...curl.matchAll(/--data-urlencode '([^=]+)=([^']*)'/g)].map((m) => [m[1], m[2]]);
    const tokens = await expectTokens(
      await call('/oauth2/token', {
        method: 'POST',
        headers: {
          Authorization: basic(client.id, client.secret),
          'Content-Type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams([['grant_type', 'authorization_code'], ...fields]).toString(),
      }),
    );
    expect(tokens.scope).toBe('base');
    expect(tokens.refresh_token).toBeTruthy();
  });

  it('shows an error response without a curl', async () => {
    const res = await demoFetch(
      `${CALLBACK}?error=access_denied&error_description=The+user+declined.&state=s1&iss=${encodeURIComponent(ORIGIN)}`,
    );
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('The authorization request was refused');
    expect(html).toContain('<dt>error</dt><dd>access_denied</dd>');
    expect(html).toContain('<dt>error_description</dt><dd>The user declined.</dd>');
    expect(html).toContain('<dt>state</dt><dd>s1</dd>');
    expect(html).not.toContain('id="curl"');
  });

  it('escapes hostile values in the page and in the shell command, and flags a foreign iss', async () => {
    const evil = `<script>alert(1)</script>'"$(touch /tmp/x)&amp;`;
    const q = new URLSearchParams({
      code: evil,
      state: `<img src=x onerror=alert(1)>`,
      iss: 'https://evil.example"><b>',
    });
    const res = await demoFetch(`${CALLBACK}?${q}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Security-Policy')).toBe(contentSecurityPolicy());
    const html = await res.text();
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<img src=x');
    expect(html).not.toContain('"><b>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('id="iss-mismatch"');
    // Inside single quotes the shell expands nothing; a single quote is closed, escaped and reopened.
    expect(curlOf(html)).toContain(`--data-urlencode 'code=<script>alert(1)</script>'\\''"$(touch /tmp/x)&amp;'`);
  });

  it('says nothing came back when called without parameters', async () => {
    const html = await (await demoFetch(CALLBACK)).text();
    expect(html).toContain('Nothing came back');
    expect(html).not.toContain('id="curl"');
  });
});
