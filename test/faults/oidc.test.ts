/**
 * Fault matrix, OpenID Connect and the remaining client kinds (issue 16, docs/fault-matrix.md): the code exchange with
 * `openid` (an ID token), RP-initiated logout and sign-out, private_key_jwt client authentication (the jti replay
 * record), a Client ID Metadata Document client's authorization request and its code exchange and refresh, and the
 * refresh retry window (REFRESH_REUSE_GRACE_SECONDS): every storage call failed in turn.
 */
import { env } from 'cloudflare:workers';
import { decodeJwt, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import { sha256 } from '../../src/lib/random';
import { JWT_BEARER_ASSERTION_TYPE } from '../../src/oauth/client-assertion';
import { authorizePath, Browser, pkcePair, signIn } from '../authz-helpers';
import { ORIGIN, seedClient, seedUser, type TestClient } from '../helpers';
import { oidcAuthorize } from '../oidc/oidc-helpers';
import { interceptOutbound, jsonDocument, type Outbound } from '../outbound';
import {
  count,
  expectRotationConsistent,
  formRequest,
  fromBrowser,
  quickUser,
  refreshRow,
  seedCode,
  seedRefreshToken,
} from './fixtures';
import { sendClean } from './harness';
import { CLIENT_CACHE, newTally, type Outcome, report, runOperation } from './matrix';

const tally = newTally();

function tokenJson(out: Outcome): Record<string, unknown> {
  expect(out.res.status, out.body.slice(0, 300)).toBe(200);
  expect(out.res.headers.get('Cache-Control')).toBe('no-store');
  return JSON.parse(out.body) as Record<string, unknown>;
}

/** The stamped KV copy of the key ring (src/storage/stamped-copy.ts), dropped where a case must read the ring from D1. */
const RING_COPY = 'keyring:live';

const sessionsOf = (userId: string) => count('SELECT COUNT(*) AS n FROM sessions WHERE user_id = ?1', userId);

describe('fault matrix: OpenID Connect, key clients, metadata documents, the refresh retry window', () => {
  it('authorization_code with openid: the ID token with the tokens, the code consumed with its family or not at all', async () => {
    interface S {
      client: TestClient;
      code: string;
      verifier: string;
    }
    await runOperation<S>(
      {
        name: 'authorization_code (openid)',
        surface: 'json',
        setup: async () => {
          const client = await seedClient();
          const user = await quickUser();
          await env.CACHE.delete(RING_COPY); // the ID token is signed with the ring read from D1: every point reached
          return { client, ...(await seedCode(client.id, user.id, 'openid profile offline_access base')) };
        },
        request: (s) =>
          formRequest(
            '/oauth2/token',
            {
              grant_type: 'authorization_code',
              code: s.code,
              redirect_uri: 'https://app.example/cb',
              code_verifier: s.verifier,
            },
            s.client,
          ),
        ok: (out, s) => {
          const body = tokenJson(out);
          expect(body.refresh_token).toBeTruthy();
          expect(decodeJwt(body.id_token as string).aud).toBe(s.client.id);
        },
        bestEffort: CLIENT_CACHE,
        // A consumed code has its live refresh family (offline_access, OIDC Core §11); an unconsumed one has none.
        consistent: async (s) => {
          const row = (await env.DB.prepare('SELECT used_at, issued_family_id FROM authorization_codes WHERE hash = ?1')
            .bind(await sha256(s.code))
            .first<{ used_at: number | null; issued_family_id: string | null }>())!;
          if (row.used_at === null) expect(row.issued_family_id).toBeNull();
          else
            expect(
              await count(
                'SELECT COUNT(*) AS n FROM refresh_tokens WHERE family_id = ?1 AND revoked_at IS NULL',
                row.issued_family_id,
              ),
            ).toBe(1);
        },
      },
      tally,
    );
  });

  it('RP-initiated logout (GET /oauth2/logout with id_token_hint): the session ends, or the 503 page and it stays', async () => {
    interface S {
      client: TestClient;
      user: { id: string };
      browser: Browser;
      path: string;
    }
    const BYE = 'https://app.example/bye';
    await runOperation<S>(
      {
        name: 'RP-initiated logout',
        surface: 'page',
        setup: async () => {
          const client = await seedClient({ oidc: { post_logout_redirect_uris: [BYE] } });
          const user = await seedUser();
          const flow = await oidcAuthorize(client, user);
          const code = flow.location.searchParams.get('code')!;
          const tokens = await sendClean(
            formRequest(
              '/oauth2/token',
              {
                grant_type: 'authorization_code',
                code,
                redirect_uri: 'https://app.example/cb',
                code_verifier: flow.verifier,
              },
              client,
            ),
          );
          const idToken = tokenJson(tokens).id_token as string;
          const path = `/oauth2/logout?${new URLSearchParams({ id_token_hint: idToken, post_logout_redirect_uri: BYE, state: 'bye-1' })}`;
          expect(await sessionsOf(user.id)).toBe(1);
          return { client, user, browser: flow.browser, path };
        },
        request: (s) => fromBrowser(s.browser, s.path),
        ok: (out) => {
          expect(out.res.status, out.body.slice(0, 300)).toBe(302);
          expect(out.res.headers.get('Location')).toBe(`${BYE}?state=bye-1`);
        },
        bestEffort: CLIENT_CACHE,
        // The session is ended on the server or untouched; a 503 never claims the user was signed out.
        consistent: async (s, failed) => {
          if (failed.res.status === 503) expect(failed.res.headers.get('Location')).toBeNull();
          expect(await sessionsOf(s.user.id)).toBeLessThanOrEqual(1);
        },
        happened: async (s) => (await sessionsOf(s.user.id)) === 0,
        retry: async (s) => {
          const again = await sendClean(fromBrowser(s.browser, s.path));
          expect(again.res.status, again.body.slice(0, 200)).toBe(302);
          expect(again.res.headers.get('Location')).toBe(`${BYE}?state=bye-1`);
          expect(await sessionsOf(s.user.id)).toBe(0);
        },
      },
      tally,
    );
  });

  it('sign-out (POST /logout): the server-side session ends, or the 503 page and it stays', async () => {
    interface S {
      user: { id: string };
      browser: Browser;
    }
    await runOperation<S>(
      {
        name: 'sign-out POST',
        surface: 'page',
        setup: async () => {
          const user = await seedUser();
          const browser = new Browser();
          expect((await signIn(browser, user.email, user.password, '/apps')).status).toBe(303);
          expect(await sessionsOf(user.id)).toBe(1);
          return { user, browser };
        },
        request: (s) => fromBrowser(s.browser, '/logout', { csrf: s.browser.csrf() }),
        ok: (out) => {
          expect(out.res.status, out.body.slice(0, 300)).toBe(303);
          expect(out.res.headers.get('Location')).toBe('/login');
        },
        consistent: async (s, failed) => {
          // The cookie is cleared only with the session: a 503 leaves the browser signed in, to retry.
          if (failed.res.status === 503) expect(await sessionsOf(s.user.id)).toBe(1);
        },
        happened: async (s) => (await sessionsOf(s.user.id)) === 0,
        retry: async (s) => {
          const again = await sendClean(fromBrowser(s.browser, '/logout', { csrf: s.browser.csrf() }));
          expect(again.res.status, again.body.slice(0, 200)).toBe(303);
          expect(await sessionsOf(s.user.id)).toBe(0);
        },
      },
      tally,
    );
  });

  it('private_key_jwt at the token endpoint: a new assertion after the fault works; the same one is a replay only if its jti was spent', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
    const pub: JWK = { ...(await exportJWK(publicKey)), kid: 'fault-k1', alg: 'ES256', use: 'sig' };
    const sign = (clientId: string) => {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({
        iss: clientId,
        sub: clientId,
        aud: ORIGIN,
        iat: now,
        exp: now + 60,
        jti: crypto.randomUUID(),
      })
        .setProtectedHeader({ alg: 'ES256', kid: 'fault-k1' })
        .sign(privateKey);
    };
    const ccWith = (assertion: string) =>
      formRequest('/oauth2/token', {
        grant_type: 'client_credentials',
        scope: 'base',
        client_assertion_type: JWT_BEARER_ASSERTION_TYPE,
        client_assertion: assertion,
      });
    interface S {
      clientId: string;
      assertion: string;
    }
    const jtis = async (s: S) => {
      const { jti } = decodeJwt(s.assertion);
      return count(
        'SELECT COUNT(*) AS n FROM client_assertion_jtis WHERE hash = ?1',
        await sha256(`${s.clientId} ${jti}`),
      );
    };
    await runOperation<S>(
      {
        name: 'private_key_jwt client_credentials',
        surface: 'json',
        setup: async () => {
          const client = await seedClient({ authMethod: 'private_key_jwt', jwks: { keys: [pub] } });
          // No KV copy of the key ring (storage/stamped-copy.ts): the ring is read from D1 after the jti is spent, so
          // a storage failure after the jti INSERT is in the matrix (with the copy, only best-effort calls follow it).
          await env.CACHE.delete(RING_COPY);
          return { clientId: client.id, assertion: await sign(client.id) };
        },
        request: (s) => ccWith(s.assertion),
        ok: (out) => expect(tokenJson(out).access_token).toBeTruthy(),
        bestEffort: CLIENT_CACHE,
        // The jti is spent at most once, and nothing else is written by a client_credentials grant.
        consistent: async (s) => expect(await jtis(s)).toBeLessThanOrEqual(1),
        retry: async (s) => {
          // RFC 7523 §3 item 7: the jti is single use. The failed request issued no token (it answered 503), so if it
          // spent the jti, the same assertion is refused with a sentence the client acts on (sign a new one); if it
          // did not, the same assertion works. Either way a NEW assertion must work: our failure costs nothing.
          const spent = (await jtis(s)) === 1;
          const same = await sendClean(ccWith(s.assertion));
          if (spent) {
            expect(same.res.status, same.body).toBe(400);
            expect(JSON.parse(same.body)).toMatchObject({
              error: 'invalid_client',
              error_description: expect.stringMatching(/already used; sign a new one with a fresh "jti"/),
            });
          } else {
            expect(tokenJson(same).access_token).toBeTruthy();
          }
          const fresh = await sendClean(ccWith(await sign(s.clientId)));
          expect(tokenJson(fresh).access_token).toBeTruthy();
        },
      },
      tally,
    );
  });

  it('a Client ID Metadata Document client (https client_id) at the authorization request: the consent page', async () => {
    const out = interceptOutbound();
    const CB = 'http://localhost:33418/cb';
    interface S {
      browser: Browser;
      path: string;
      url: string;
    }
    await runOperation<S>(
      {
        name: 'authorize GET (metadata document client)',
        surface: 'page',
        setup: async () => {
          const url = `https://agent.example.com/oauth/fault-${crypto.randomUUID().slice(0, 8)}.json`;
          out.route(url, () =>
            jsonDocument({
              client_id: url,
              client_name: 'Fault agent',
              redirect_uris: [CB],
              grant_types: ['authorization_code', 'refresh_token'],
              response_types: ['code'],
              token_endpoint_auth_method: 'none',
            }),
          );
          const user = await seedUser();
          const { challenge } = await pkcePair();
          const path = authorizePath({
            response_type: 'code',
            client_id: url,
            redirect_uri: CB,
            scope: 'base',
            state: 'st',
            code_challenge: challenge,
            code_challenge_method: 'S256',
          });
          const browser = new Browser();
          expect((await signIn(browser, user.email, user.password, path)).status).toBe(303);
          // The sign-in page named the app, so the document is in KV: drop it, so the request fetches it (a miss).
          await env.CACHE.delete(`cimd:${await sha256(url)}`);
          await env.CACHE.delete(RING_COPY); // and the ring is read from D1 in every case, as in the counting run
          return { browser, path, url };
        },
        request: (s) => fromBrowser(s.browser, s.path),
        ok: (o, s) => {
          expect(out.requests.map((r) => r.url)).toContain(s.url);
          expect(o.res.status, o.body.slice(0, 300)).toBe(200);
          expect(o.body).toContain('name="decision"');
          expect(o.body).toContain('Fault agent');
        },
        // KV is the document's only cache (src/services/resolve-client.ts): unreadable, the document is fetched as
        // on a miss; unwritable, the answer stands and the next request fetches again.
        bestEffort: [/^KV\.(get|put) cimd:/],
        // Nothing is written for the request: no failure is remembered as the document's (a 503 is ours, not its).
        consistent: async (s, failed) => {
          if (failed.res.status === 503) expect(failed.body).not.toContain('Fault agent');
          expect(await count('SELECT COUNT(*) AS n FROM clients WHERE id = ?1', s.url)).toBe(0);
        },
      },
      tally,
    );
  });

  describe('a Client ID Metadata Document client (https client_id, public, PKCE) at the token endpoint', () => {
    /**
     * A fresh document URL per case, served through `interceptOutbound`, with no KV copy yet: the token request
     * resolves the client by fetching it (KV.get cimd: a miss, KV.put cimd: the fill), as a cold colo would.
     */
    async function documentClient(out: Outbound): Promise<string> {
      const url = `https://agent.example.com/oauth/fault-${crypto.randomUUID().slice(0, 8)}.json`;
      out.route(url, () =>
        jsonDocument({
          client_id: url,
          client_name: 'Fault agent',
          redirect_uris: ['https://app.example/cb'], // the redirect URI seedCode stores
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
          token_endpoint_auth_method: 'none',
        }),
      );
      await env.CACHE.delete(RING_COPY); // the ring is read from D1 in every case, as in the counting run
      return url;
    }
    /** KV is the document's only cache (src/services/resolve-client.ts): unreadable, fetched; unwritable, refetched. */
    const DOCUMENT_CACHE = [/^KV\.(get|put) cimd:/];

    it('authorization_code: a consumed code has its tokens', async () => {
      const out = interceptOutbound();
      interface S {
        url: string;
        code: string;
        verifier: string;
      }
      const codeRow = async (s: S) =>
        (await env.DB.prepare('SELECT used_at, issued_family_id FROM authorization_codes WHERE hash = ?1')
          .bind(await sha256(s.code))
          .first<{ used_at: number | null; issued_family_id: string | null }>())!;
      await runOperation<S>(
        {
          name: 'authorization_code (metadata document client)',
          surface: 'json',
          setup: async () => {
            const url = await documentClient(out);
            const user = await quickUser();
            return { url, ...(await seedCode(url, user.id, 'base offline_access')) };
          },
          // A public client (token_endpoint_auth_method none): client_id in the body, the PKCE verifier its proof.
          request: (s) =>
            formRequest('/oauth2/token', {
              grant_type: 'authorization_code',
              code: s.code,
              redirect_uri: 'https://app.example/cb',
              client_id: s.url,
              code_verifier: s.verifier,
            }),
          ok: (o, s) => {
            expect(out.requests.map((r) => r.url)).toContain(s.url);
            expect(tokenJson(o).refresh_token).toBeTruthy();
          },
          bestEffort: DOCUMENT_CACHE,
          consistent: async (s) => {
            const row = await codeRow(s);
            if (row.used_at === null) expect(row.issued_family_id).toBeNull();
            else
              expect(
                await count(
                  'SELECT COUNT(*) AS n FROM refresh_tokens WHERE family_id = ?1 AND client_id = ?2 AND revoked_at IS NULL',
                  row.issued_family_id,
                  s.url,
                ),
              ).toBe(1);
            // The document client is never written to the registry.
            expect(await count('SELECT COUNT(*) AS n FROM clients WHERE id = ?1', s.url)).toBe(0);
          },
          happened: async (s) => (await codeRow(s)).used_at !== null,
        },
        tally,
      );
    });

    it('refresh_token: a failed rotation never loses the token', async () => {
      const out = interceptOutbound();
      interface S {
        url: string;
        token: string;
      }
      await runOperation<S>(
        {
          name: 'refresh_token (metadata document client)',
          surface: 'json',
          setup: async () => {
            const url = await documentClient(out);
            const user = await quickUser();
            return { url, token: await seedRefreshToken(url, user.id) };
          },
          request: (s) =>
            formRequest('/oauth2/token', { grant_type: 'refresh_token', refresh_token: s.token, client_id: s.url }),
          ok: (o, s) => {
            const next = tokenJson(o).refresh_token;
            expect(next).toBeTruthy();
            expect(next).not.toBe(s.token);
          },
          bestEffort: DOCUMENT_CACHE,
          consistent: (s) => expectRotationConsistent(s.token),
          happened: async (s) => (await refreshRow(s.token))!.used_at !== null,
        },
        tally,
      );
    });
  });

  it('the refresh retry window: a fault in the retry leaves exactly one live successor and the family alive', async () => {
    interface S {
      client: TestClient;
      userId: string;
      original: string;
    }
    const live = (s: S) =>
      count(
        'SELECT COUNT(*) AS n FROM refresh_tokens WHERE user_id = ?1 AND used_at IS NULL AND revoked_at IS NULL',
        s.userId,
      );
    const familyRevoked = async (s: S) => {
      const row = await refreshRow(s.original);
      return count("SELECT COUNT(*) AS n FROM revocations WHERE kind = 'family' AND value = ?1", row!.family_id);
    };
    const refresh = (s: S) =>
      formRequest('/oauth2/token', { grant_type: 'refresh_token', refresh_token: s.original }, s.client);
    await runOperation<S>(
      {
        name: 'refresh_token retry within the grace window',
        surface: 'json',
        setup: async () => {
          const client = await seedClient();
          const user = await quickUser();
          const s = { client, userId: user.id, original: await seedRefreshToken(client.id, user.id) };
          // The first rotation committed, its reply lost: the successor is never used, the client retries.
          tokenJson(await sendClean(refresh(s)));
          expect(await live(s)).toBe(1);
          return s;
        },
        request: refresh,
        ok: (out) => expect(tokenJson(out).refresh_token).toBeTruthy(),
        bestEffort: CLIENT_CACHE,
        consistent: async (s) => {
          expect(await live(s), 'live successors').toBe(1);
          expect(await familyRevoked(s), 'family revoked').toBe(0);
          expect(
            await count(
              'SELECT COUNT(*) AS n FROM refresh_tokens WHERE user_id = ?1 AND revoked_at IS NOT NULL AND replaced_by IS NULL AND used_at IS NULL',
              s.userId,
            ),
          ).toBeLessThanOrEqual(1);
        },
        retry: async (s) => {
          const again = await sendClean(refresh(s));
          const body = tokenJson(again);
          expect(await live(s)).toBe(1);
          expect(await familyRevoked(s)).toBe(0);
          // The successor the client holds now works.
          const next = await sendClean(
            formRequest(
              '/oauth2/token',
              { grant_type: 'refresh_token', refresh_token: body.refresh_token as string },
              s.client,
            ),
          );
          expect(tokenJson(next).refresh_token).toBeTruthy();
        },
      },
      tally,
    );
  });

  afterAll(() => {
    report('OpenID Connect, key clients, metadata documents, refresh retry window', tally);
  });

  it('figure: every case tried held', () => {
    expect(tally.failures).toEqual([]);
    expect(tally.held).toBe(tally.tried);
  });
});
