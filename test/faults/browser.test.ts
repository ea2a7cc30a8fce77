/**
 * Fault matrix, the browser flow (issue 16, docs/fault-matrix.md): the authorization request, sign-in and the consent
 * POST. These are pages: a storage failure must answer the HTML "Briefly unavailable" page with 503 and Retry-After
 * (src/ui/render.ts), never JSON and never a 500.
 */
import { env } from 'cloudflare:workers';
import { afterAll, describe, expect, it } from 'vitest';
import { authorizePath, Browser, hiddenFields, pkcePair, signIn } from '../authz-helpers';
import { seedClient, seedUser, type TestClient } from '../helpers';
import { count, fromBrowser } from './fixtures';
import { CLIENT_CACHE, newTally, type Outcome, report, runOperation } from './matrix';

const tally = newTally();

interface Flow {
  client: TestClient;
  user: { id: string; email: string; password: string };
  browser: Browser;
  path: string;
}

/** A fresh client and user, signed in (a session) but not yet consented. */
async function signedIn(): Promise<Flow> {
  const client = await seedClient();
  const user = await seedUser();
  const { challenge } = await pkcePair();
  const path = authorizePath({
    response_type: 'code',
    client_id: client.id,
    redirect_uri: 'https://app.example/cb',
    scope: 'base files',
    state: 'st',
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  const browser = new Browser();
  const res = await signIn(browser, user.email, user.password, path);
  expect(res.status).toBe(303);
  return { client, user, browser, path };
}

function expectPage(out: Outcome, status: number): void {
  expect(out.res.status, out.body.slice(0, 300)).toBe(status);
}

describe('fault matrix: browser flow (pages)', () => {
  it('authorization request (GET /oauth2/authorize, signed in): the consent page', async () => {
    await runOperation<Flow>(
      {
        name: 'authorize GET',
        surface: 'page',
        setup: signedIn,
        request: (f) => fromBrowser(f.browser, f.path),
        ok: (out) => {
          expectPage(out, 200);
          expect(out.body).toContain('name="decision"');
        },
        bestEffort: CLIENT_CACHE,
      },
      tally,
    );
  });

  it('sign-in (POST /login)', async () => {
    interface S {
      user: { id: string; email: string; password: string };
      browser: Browser;
    }
    await runOperation<S>(
      {
        name: 'sign-in POST',
        surface: 'page',
        setup: async () => {
          const user = await seedUser();
          const browser = new Browser();
          await (await browser.get('/login?next=%2Fapps')).text();
          return { user, browser };
        },
        request: ({ user, browser }) =>
          fromBrowser(browser, '/login', {
            csrf: browser.csrf(),
            next: '/apps',
            email: user.email,
            password: user.password,
          }),
        ok: (out) => {
          expectPage(out, 303);
          expect(out.res.headers.get('Location')).toBe('/apps');
          expect(out.res.headers.getSetCookie().join(';')).toMatch(/__Host-session=/);
        },
        // A failed sign-in leaves at most the session whose reply was lost: nobody holds its cookie and it expires on
        // its own (SESSION_SECONDS); the retry signs in with a new one.
        consistent: async ({ user }, failed) => {
          const sessions = await count('SELECT COUNT(*) AS n FROM sessions WHERE user_id = ?1', user.id);
          if (failed.res.status === 303) expect(sessions).toBe(1);
          else expect(sessions).toBeLessThanOrEqual(1);
        },
        happened: async ({ user }) =>
          (await count('SELECT COUNT(*) AS n FROM sessions WHERE user_id = ?1', user.id)) > 0,
      },
      tally,
    );
  });

  it('consent (POST /oauth2/authorize, allow): a code is issued with its consent, or nothing is', async () => {
    interface S extends Flow {
      fields: Record<string, string>;
    }
    await runOperation<S>(
      {
        name: 'consent POST',
        surface: 'page',
        setup: async () => {
          const f = await signedIn();
          const page = await f.browser.get(f.path);
          expect(page.status).toBe(200);
          return { ...f, fields: hiddenFields(await page.text()) };
        },
        request: (s) => fromBrowser(s.browser, '/oauth2/authorize', { ...s.fields, decision: 'allow' }),
        ok: (out) => {
          expect([302, 303]).toContain(out.res.status);
          const loc = new URL(out.res.headers.get('Location')!);
          expect(loc.origin + loc.pathname).toBe('https://app.example/cb');
          expect(loc.searchParams.get('code')).toBeTruthy();
        },
        bestEffort: CLIENT_CACHE,
        // The code and the remembered consent are one batch (src/routes/authorize.ts issueCode).
        consistent: async ({ client, user }) => {
          const codes = await count('SELECT COUNT(*) AS n FROM authorization_codes WHERE client_id = ?1', client.id);
          const consents = await count(
            'SELECT COUNT(*) AS n FROM consents WHERE client_id = ?1 AND user_id = ?2',
            client.id,
            user.id,
          );
          expect(Math.min(codes, 1)).toBe(consents);
        },
      },
      tally,
    );
  });

  afterAll(() => {
    report('browser flow', tally);
  });

  it('figure: every case tried held', () => {
    expect(tally.failures).toEqual([]);
    expect(tally.held).toBe(tally.tried);
    expect(env.DB).toBeTruthy();
  });
});
