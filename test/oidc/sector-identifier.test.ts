/**
 * OpenID Connect Core §8.1 and Dynamic Registration §2/§5 (issue 15): a pairwise client whose redirect URIs span
 * hosts registers a sector_identifier_uri, a JSON array that must list every one of them. The document is served by
 * intercepting the outbound fetch (test/outbound.ts); the product keeps https only. Clients of one sector see one
 * pairwise `sub` for a user; a client of another sector sees another.
 */
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { Browser } from '../authz-helpers';
import { call, errorOf, expectTokens, seedUser, tokenRequest } from '../helpers';
import { admin, json } from '../ops-helpers';
import { interceptOutbound, jsonDocument } from '../outbound';
import { idClaims, oidcAuthorize } from './oidc-helpers';

const RP_A = 'https://rp-a.sector.example/cb';
const RP_B = 'https://rp-b.sector.example/cb';
const SECTOR = 'https://sector.example.com/sector-redirects.json';

async function register(body: Record<string, unknown>): Promise<Response> {
  const iat = (await json<{ initial_access_token: string }>(await admin('POST', '/initial-access-tokens', {}), 201))
    .initial_access_token;
  return call('/oauth2/register', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${iat}` },
    body: JSON.stringify({ client_name: 'Pairwise RP', grant_types: ['authorization_code'], ...body }),
  });
}

async function registered(body: Record<string, unknown>) {
  const res = await register(body);
  const text = await res.text();
  expect(res.status, text).toBe(201);
  const j = JSON.parse(text) as { client_id: string; client_secret: string } & Record<string, unknown>;
  return { client: { id: j.client_id, secret: j.client_secret }, body: j };
}

/** The `sub` of the ID token and of UserInfo the client gets for `user` through redirect URI `cb`. */
async function subjectsOf(
  client: { id: string; secret: string },
  user: { email: string; password: string },
  cb: string,
) {
  const flow = await oidcAuthorize(client, user, { redirect_uri: cb }, new Browser());
  const code = flow.location.searchParams.get('code');
  expect(code, String(flow.location)).toBeTruthy();
  const tokens = (await expectTokens(
    await tokenRequest(
      { grant_type: 'authorization_code', code: code!, redirect_uri: cb, code_verifier: flow.verifier },
      { client },
    ),
  )) as { id_token?: string; access_token: string };
  const info = (await (
    await call('/oauth2/userinfo', { headers: { Authorization: `Bearer ${tokens.access_token}` } })
  ).json()) as { sub: string };
  return { idToken: idClaims(tokens.id_token!).claims.sub as string, userInfo: info.sub };
}

describe('sector_identifier_uri (Core §8.1)', () => {
  it('registration succeeds when the document lists every redirect URI; one sector, one sub; another sector, another', async () => {
    const out = interceptOutbound({ [SECTOR]: () => jsonDocument([RP_A, RP_B, 'https://unused.example/cb']) });
    const one = await registered({
      subject_type: 'pairwise',
      sector_identifier_uri: SECTOR,
      redirect_uris: [RP_A, RP_B],
    });
    expect(one.body).toMatchObject({ subject_type: 'pairwise', sector_identifier_uri: SECTOR });
    const two = await registered({ subject_type: 'pairwise', sector_identifier_uri: SECTOR, redirect_uris: [RP_B] });
    // The document was fetched at each registration, without following redirects (SSRF rules, src/lib/safe-fetch.ts).
    expect(out.requests.map((r) => [r.url, r.redirect])).toEqual([
      [SECTOR, 'manual'],
      [SECTOR, 'manual'],
    ]);
    // Another sector: its redirect URI's host (no sector_identifier_uri, one host).
    const other = await registered({ subject_type: 'pairwise', redirect_uris: ['https://elsewhere.example/cb'] });

    const user = await seedUser();
    const a = await subjectsOf(one.client, user, RP_A);
    const aViaB = await subjectsOf(one.client, user, RP_B);
    const b = await subjectsOf(two.client, user, RP_B);
    const c = await subjectsOf(other.client, user, 'https://elsewhere.example/cb');
    expect(a.idToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(a.idToken).not.toBe(user.id);
    expect(a.userInfo).toBe(a.idToken);
    expect(aViaB.idToken).toBe(a.idToken); // one client, both hosts of its sector
    expect(b.idToken).toBe(a.idToken); // another client of the same sector
    expect(b.userInfo).toBe(a.idToken);
    expect(c.idToken).not.toBe(a.idToken); // another sector
    expect(c.userInfo).toBe(c.idToken);
    // And another user of the same sector has another sub.
    const second = await subjectsOf(two.client, await seedUser(), RP_B);
    expect(second.idToken).not.toBe(a.idToken);
  });

  it('a redirect URI the document does not list is refused, naming it; nothing is registered', async () => {
    interceptOutbound({ [SECTOR]: () => jsonDocument([RP_A]) });
    const before = (await env.DB.prepare('SELECT COUNT(*) AS n FROM clients').first<{ n: number }>())!.n;
    const err = await errorOf(
      await register({ subject_type: 'pairwise', sector_identifier_uri: SECTOR, redirect_uris: [RP_A, RP_B] }),
    );
    expect(err).toMatchObject({ status: 400, error: 'invalid_client_metadata' });
    expect(err.description).toBe(`The sector_identifier_uri document does not list the redirect URI "${RP_B}".`);
    expect((await env.DB.prepare('SELECT COUNT(*) AS n FROM clients').first<{ n: number }>())!.n).toBe(before);
  });

  it('a document that is not a JSON array of URLs, or cannot be fetched, is invalid_client_metadata', async () => {
    const out = interceptOutbound({ [SECTOR]: () => jsonDocument({ redirect_uris: [RP_A] }) });
    const notArray = await errorOf(
      await register({ subject_type: 'pairwise', sector_identifier_uri: SECTOR, redirect_uris: [RP_A] }),
    );
    expect(notArray).toMatchObject({ status: 400, error: 'invalid_client_metadata' });
    expect(notArray.description).toBe('The sector_identifier_uri must serve a JSON array of URLs.');
    out.route(SECTOR, () => new Response('gone', { status: 404 }));
    const missing = await errorOf(
      await register({ subject_type: 'pairwise', sector_identifier_uri: SECTOR, redirect_uris: [RP_A] }),
    );
    expect(missing).toMatchObject({ status: 400, error: 'invalid_client_metadata' });
    expect(missing.description).toMatch(/^The sector_identifier_uri could not be used: /);
  });
});
