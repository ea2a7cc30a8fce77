/**
 * Fault matrix, the app portal (issue 16, docs/fault-matrix.md): a signed-in owner rotates an app's secret, deletes
 * an app, withdraws a consent. Pages: a storage failure answers the 503 "Briefly unavailable" page.
 */
import { env } from 'cloudflare:workers';
import { afterAll, describe, expect, it } from 'vitest';
import { sha256 } from '../../src/lib/random';
import { grantConsentStatement } from '../../src/storage/consents';
import { Browser, signIn } from '../authz-helpers';
import { ORIGIN, seedClient, seedUser, type TestClient } from '../helpers';
import { count, formRequest, seedRefreshToken } from './fixtures';
import { sendClean } from './harness';
import { newTally, type Outcome, report, runOperation } from './matrix';

const tally = newTally();

interface Owner {
  user: { id: string; email: string; password: string };
  client: TestClient;
  browser: Browser;
}

/** A signed-in user who owns a fresh app that is in use (its record in the KV cache). */
async function owner(): Promise<Owner> {
  const user = await seedUser();
  const client = await seedClient({ ownerUserId: user.id });
  const browser = new Browser();
  expect((await signIn(browser, user.email, user.password, '/apps')).status).toBe(303);
  expect((await sendClean(formRequest('/oauth2/token', { grant_type: 'client_credentials' }, client))).res.status).toBe(
    200,
  );
  return { user, client, browser };
}

function post(b: Browser, path: string): Request {
  return new Request(`${ORIGIN}${path}`, {
    method: 'POST',
    headers: {
      Cookie: [...b.jar].map(([k, v]) => `${k}=${v}`).join('; '),
      'Content-Type': 'application/x-www-form-urlencoded',
      Origin: ORIGIN,
      'Sec-Fetch-Site': 'same-origin',
    },
    body: new URLSearchParams({ csrf: b.csrf() }).toString(),
    redirect: 'manual',
  });
}

const redirectsTo = (out: Outcome, location: string) => {
  expect(out.res.status, out.body.slice(0, 300)).toBe(303);
  expect(out.res.headers.get('Location')).toBe(location);
};

describe('fault matrix: app portal (pages)', () => {
  it('rotate secret (POST /apps/:id/rotate)', async () => {
    await runOperation<Owner>(
      {
        name: 'portal rotate secret',
        surface: 'page',
        setup: owner,
        request: (o) => post(o.browser, `/apps/${o.client.id}/rotate`),
        ok: (out) => {
          expect(out.res.status, out.body.slice(0, 300)).toBe(200);
          expect(out.body).toMatch(/<!DOCTYPE html>/);
        },
        consistent: async ({ client }) => {
          const rotated =
            (await count(
              'SELECT COUNT(*) AS n FROM clients WHERE id = ?1 AND secret_hash <> ?2',
              client.id,
              await sha256(client.secret),
            )) === 1;
          expect(
            await count(
              "SELECT COUNT(*) AS n FROM audit_events WHERE event = 'client_secret_rotated' AND subject = ?1",
              client.id,
            ),
          ).toBe(rotated ? 1 : 0);
        },
        happened: async ({ client }) =>
          (await count(
            'SELECT COUNT(*) AS n FROM clients WHERE id = ?1 AND secret_hash <> ?2',
            client.id,
            await sha256(client.secret),
          )) === 1,
      },
      tally,
    );
  });

  it('delete app (POST /apps/:id/delete): gone with its tokens and its cached copy, or untouched', async () => {
    interface S extends Owner {
      refresh: string;
    }
    await runOperation<S>(
      {
        name: 'portal delete app',
        surface: 'page',
        setup: async () => {
          const o = await owner();
          return { ...o, refresh: await seedRefreshToken(o.client.id, o.user.id) };
        },
        request: (o) => post(o.browser, `/apps/${o.client.id}/delete`),
        ok: (out) => redirectsTo(out, '/apps?done=deleted'),
        consistent: async ({ client }) => {
          const gone = (await count('SELECT COUNT(*) AS n FROM clients WHERE id = ?1', client.id)) === 0;
          expect(await count('SELECT COUNT(*) AS n FROM refresh_tokens WHERE client_id = ?1', client.id)).toBe(
            gone ? 0 : 1,
          );
        },
        happened: async ({ client }) =>
          (await count('SELECT COUNT(*) AS n FROM clients WHERE id = ?1', client.id)) === 0,
        retry: async (o) => {
          const again = await sendClean(post(o.browser, `/apps/${o.client.id}/delete`));
          // Deleted by the failed request already: the 404 page says it may have been deleted, which it was.
          expect([303, 404], again.body.slice(0, 200)).toContain(again.res.status);
          const cached = await env.CACHE.get(`client:${o.client.id}`);
          expect(cached === null || cached.includes('"missing"'), `stale KV copy: ${cached?.slice(0, 80)}`).toBe(true);
          const token = await sendClean(formRequest('/oauth2/token', { grant_type: 'client_credentials' }, o.client));
          expect(token.res.status).toBe(401);
        },
      },
      tally,
    );
  });

  it('withdraw consent (POST /apps/consents/:clientId/withdraw)', async () => {
    interface S extends Owner {
      refresh: string;
    }
    await runOperation<S>(
      {
        name: 'portal withdraw consent',
        surface: 'page',
        setup: async () => {
          const o = await owner();
          await grantConsentStatement(env.DB, o.user.id, o.client.id, { mask: 1, entries: [] }).run();
          return { ...o, refresh: await seedRefreshToken(o.client.id, o.user.id) };
        },
        request: (o) => post(o.browser, `/apps/consents/${o.client.id}/withdraw`),
        ok: (out) => redirectsTo(out, '/apps?done=withdrawn'),
        // The consent goes with its refresh tokens and its audit row, or nothing does.
        consistent: async ({ user, client }) => {
          const consent = await count(
            'SELECT COUNT(*) AS n FROM consents WHERE user_id = ?1 AND client_id = ?2',
            user.id,
            client.id,
          );
          const live = await count(
            'SELECT COUNT(*) AS n FROM refresh_tokens WHERE client_id = ?1 AND revoked_at IS NULL',
            client.id,
          );
          expect(live).toBe(consent);
        },
        happened: async ({ user, client }) =>
          (await count(
            'SELECT COUNT(*) AS n FROM consents WHERE user_id = ?1 AND client_id = ?2',
            user.id,
            client.id,
          )) === 0,
      },
      tally,
    );
  });

  afterAll(() => {
    report('app portal', tally);
  });

  it('figure: every case tried held', () => {
    expect(tally.failures).toEqual([]);
    expect(tally.held).toBe(tally.tried);
  });
});
