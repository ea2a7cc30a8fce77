/**
 * Issue 13: remembered consent is per resource (RFC 8707; migrations/0013, src/oauth/consent.ts). A consent given to
 * a confidential client for resource A skips the page for A again, never for resource B or for /v1; a public client
 * always sees the one-click page; rows from before the migration mean /v1; withdrawing in the portal withdraws every
 * resource of that client.
 */
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { insertResourceServerStatement } from '../../src/storage/resource-servers';
import { authorizeFlow, authorizePath, type Browser, hiddenFields, locationParams } from '../authz-helpers';
import { seedClient, seedUser } from '../helpers';

const A = 'https://consent-a.example.com/mcp';
const B = 'https://consent-b.example.com/mcp';
const CB = 'https://app.example/cb';

beforeAll(async () => {
  await env.DB.batch([
    insertResourceServerStatement(env.DB, { uri: A, name: 'Server A', scopes: ['tools', 'read'] }),
    insertResourceServerStatement(env.DB, { uri: B, name: 'Server B', scopes: ['tools'] }),
  ]);
});

/** A signed-in browser's answer to an authorization request (no sign-in, no Allow). */
function ask(b: Browser, clientId: string, extra: { resource?: string; scope?: string }): Promise<Response> {
  return b.get(
    authorizePath({
      response_type: 'code',
      client_id: clientId,
      redirect_uri: CB,
      state: 'st',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
      ...extra,
    }),
  );
}

/** The request was answered with a code at once: the consent was remembered. */
function expectSkipped(res: Response) {
  expect(res.status).toBe(302);
  const q = locationParams(res);
  expect(res.headers.get('Location')!.startsWith(`${CB}?`)).toBe(true);
  expect(q.get('code')).toBeTruthy();
  expect(q.get('state')).toBe('st');
}

/** The consent page, for `name`. */
async function expectPage(res: Response, name: string): Promise<string> {
  expect(res.status).toBe(200);
  const html = await res.text();
  expect(html).toContain(name);
  expect(html).toContain('name="decision" value="allow"');
  return html;
}

const rowOf = (userId: string, clientId: string) =>
  env.DB.prepare('SELECT scope_mask, resources FROM consents WHERE user_id = ?1 AND client_id = ?2')
    .bind(userId, clientId)
    .first<{ scope_mask: number; resources: string | null }>();

describe('remembered consent per resource', () => {
  it('confidential client: approve for A, A again is skipped; B, /v1 and a wider scope of A get the page', async () => {
    const client = await seedClient();
    const user = await seedUser();
    const first = await authorizeFlow(client, user, { resource: A, scope: 'tools' });
    const b = first.browser;
    expect(JSON.parse((await rowOf(user.id, client.id))!.resources!)).toEqual([A, `${A} tools`].sort());

    expectSkipped(await ask(b, client.id, { resource: A, scope: 'tools' }));
    expectSkipped(await ask(b, client.id, { resource: `${A}/`, scope: 'tools' })); // the same resource, canonical
    await expectPage(await ask(b, client.id, { resource: B, scope: 'tools' }), 'Server B');
    await expectPage(await ask(b, client.id, { resource: A, scope: 'tools read' }), 'Server A');
    await expectPage(await ask(b, client.id, {}), 'Read and change'); // /v1 (base)
    // A and B in one request: B was never allowed.
    const both = await b.get(
      `${authorizePath({
        response_type: 'code',
        client_id: client.id,
        redirect_uri: CB,
        state: 'st',
        code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
        code_challenge_method: 'S256',
        resource: A,
        scope: 'tools',
      })}&resource=${encodeURIComponent(B)}`,
    );
    await expectPage(both, 'Server B');

    // Allowing B widens the same row: both are then skipped, and /v1 still asks.
    const page = await ask(b, client.id, { resource: B, scope: 'tools' });
    const allowed = await b.post('/oauth2/authorize', { ...hiddenFields(await page.text()), decision: 'allow' });
    expect(allowed.status).toBe(303);
    expect(locationParams(allowed).get('code')).toBeTruthy();
    expect(JSON.parse((await rowOf(user.id, client.id))!.resources!)).toEqual(
      [A, `${A} tools`, B, `${B} tools`].sort(),
    );
    expectSkipped(await ask(b, client.id, { resource: A, scope: 'tools' }));
    expectSkipped(await ask(b, client.id, { resource: B }));
    await expectPage(await ask(b, client.id, { scope: 'base' }), 'Read and change');
  });

  it('a row from before migration 0013 (resources NULL) means /v1: skipped for /v1, the page for A', async () => {
    const client = await seedClient();
    const user = await seedUser();
    const { browser: b } = await authorizeFlow(client, user, { scope: 'base files' });
    expect(await rowOf(user.id, client.id)).toEqual({ scope_mask: 3, resources: null });
    expectSkipped(await ask(b, client.id, { scope: 'files' }));
    await expectPage(await ask(b, client.id, { resource: A, scope: 'tools' }), 'Server A');
    // Allowing A keeps the /v1 mask and adds A.
    const page = await ask(b, client.id, { resource: A, scope: 'tools' });
    await b.post('/oauth2/authorize', { ...hiddenFields(await page.text()), decision: 'allow' });
    expect(await rowOf(user.id, client.id)).toMatchObject({ scope_mask: 3 });
    expectSkipped(await ask(b, client.id, { scope: 'base' }));
    expectSkipped(await ask(b, client.id, { resource: A, scope: 'tools' }));
  });

  it('a public client always sees the one-click page, saying it was allowed before', async () => {
    const client = await seedClient({ confidential: false, grantTypes: ['authorization_code', 'refresh_token'] });
    const user = await seedUser();
    const { browser: b } = await authorizeFlow(client, user, { resource: A, scope: 'tools' });
    const html = await expectPage(await ask(b, client.id, { resource: A, scope: 'tools' }), 'Server A');
    expect(html).toContain('You allowed this before');
    const other = await expectPage(await ask(b, client.id, { resource: B, scope: 'tools' }), 'Server B');
    expect(other).not.toContain('You allowed this before');
  });

  it('withdrawing the consent in the portal withdraws every resource of that client', async () => {
    const client = await seedClient();
    const user = await seedUser();
    const { browser: b } = await authorizeFlow(client, user, { resource: A, scope: 'tools' });
    await authorizeFlow(client, user, { browser: b, resource: B, scope: 'tools' });
    await authorizeFlow(client, user, { browser: b, scope: 'base' });
    expectSkipped(await ask(b, client.id, { resource: B }));
    const apps = await (await b.get('/apps')).text();
    expect(apps).toContain(`Use <code>${A}</code> for you`);
    expect(apps).toContain(`Use <code>${B}</code> for you`);
    const res = await b.post(`/apps/consents/${client.id}/withdraw`, { csrf: b.csrf() });
    expect(res.status).toBe(303);
    expect(await rowOf(user.id, client.id)).toBeNull();
    await expectPage(await ask(b, client.id, { resource: A, scope: 'tools' }), 'Server A');
    await expectPage(await ask(b, client.id, { resource: B, scope: 'tools' }), 'Server B');
    await expectPage(await ask(b, client.id, { scope: 'base' }), 'Read and change');
  });
});
