/**
 * Issue 13: which resources a client may ask for (clients.allowed_resources, RFC 8707 §2), set through the admin
 * API: validated (canonical, registered), shown in the client's JSON, audited in the update's batch, enforced at
 * once (the client cache is dropped) at the token and authorization endpoints, and reset with null.
 */
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { authorizePath, Browser, locationParams, signIn } from '../authz-helpers';
import { basic, call, errorOf, expectTokens, seedUser } from '../helpers';
import { admin, json } from '../ops-helpers';

const V1 = env.ACCESS_TOKEN_AUDIENCE as string;
const A = 'https://allowed-a.example.com/mcp';
const B = 'https://allowed-b.example.com/mcp';

function token(client: { id: string; secret: string }, resource?: string): Promise<Response> {
  const body = new URLSearchParams({ grant_type: 'client_credentials' });
  if (resource) body.set('resource', resource);
  return call('/oauth2/token', {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: basic(client.id, client.secret) },
    body: body.toString(),
  });
}

async function expectTarget(res: Response) {
  expect(res.status).toBe(400);
  const e = await errorOf(res);
  expect(e.error).toBe('invalid_target');
  expect(e.description).toMatch(/may not request tokens for the resource/);
}

async function registerResources() {
  for (const [uri, name] of [
    [A, 'A'],
    [B, 'B'],
  ]) {
    const res = await admin('POST', '/resources', { resource: uri, name, scopes: ['tools'] });
    expect([201, 409]).toContain(res.status);
  }
}

async function createClient(extra: Record<string, unknown> = {}) {
  const created = await json<{ client_id: string; client_secret: string; allowed_resources: string[] | null }>(
    await admin('POST', '/clients', {
      client_name: 'Resource-limited',
      grant_types: ['client_credentials', 'authorization_code'],
      redirect_uris: ['https://app.example/cb'],
      scope: 'base',
      ...extra,
    }),
    201,
  );
  return { created, client: { id: created.client_id, secret: created.client_secret } };
}

describe('admin API: a client’s allowed_resources', () => {
  it('set (canonical form), shown, audited in the same batch, enforced at once, reset with null', async () => {
    await registerResources();
    const { created, client } = await createClient();
    expect(created.allowed_resources).toBeNull();
    // Warm every cache of the client, so the change must drop them to count.
    await expectTokens(await token(client, B));

    const set = await json<Record<string, unknown>>(
      await admin('PATCH', `/clients/${client.id}`, {
        allowed_resources: ['HTTPS://allowed-a.example.com:443/mcp/', A],
      }),
      200,
    );
    expect(set.allowed_resources).toEqual([A]); // canonical, de-duplicated
    expect(await json(await admin('GET', `/clients/${client.id}`), 200)).toMatchObject({ allowed_resources: [A] });
    const audit = await env.DB.prepare(
      "SELECT detail FROM audit_events WHERE event = 'client_updated' AND subject = ?1 ORDER BY id DESC LIMIT 1",
    )
      .bind(client.id)
      .first<{ detail: string }>();
    expect(JSON.parse(audit!.detail)).toEqual({ fields: ['allowed_resources'], allowed_resources: [A] });

    await expectTarget(await token(client, B)); // another resource
    await expectTarget(await token(client)); // /v1, the default audience, is outside the list too
    await expectTokens(await token(client, A));

    // The authorization endpoint refuses it too, by redirect (RFC 8707 §2, RFC 6749 §4.1.2.1).
    const user = await seedUser();
    const b = new Browser();
    const path = authorizePath({
      response_type: 'code',
      client_id: client.id,
      redirect_uri: 'https://app.example/cb',
      state: 's',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
      resource: B,
    });
    const signedIn = await signIn(b, user.email, user.password, path);
    const refused = await b.get(signedIn.headers.get('Location')!);
    expect(refused.status).toBe(302);
    const q = locationParams(refused);
    expect(q.get('error')).toBe('invalid_target');
    expect(q.get('state')).toBe('s');

    // The built-in /v1 may be listed by its audience; null resets to every registered resource.
    const withV1 = await json<Record<string, unknown>>(
      await admin('PATCH', `/clients/${client.id}`, { allowed_resources: [V1, A] }),
      200,
    );
    expect(withV1.allowed_resources).toEqual([V1, A]);
    await expectTokens(await token(client));
    const reset = await json<Record<string, unknown>>(
      await admin('PATCH', `/clients/${client.id}`, { allowed_resources: null }),
      200,
    );
    expect(reset.allowed_resources).toBeNull();
    await expectTokens(await token(client, B));
    // Other changes keep the list as stored.
    await json(await admin('PATCH', `/clients/${client.id}`, { allowed_resources: [A] }), 200);
    const renamed = await json<Record<string, unknown>>(
      await admin('PATCH', `/clients/${client.id}`, { client_name: 'Renamed' }),
      200,
    );
    expect(renamed.allowed_resources).toEqual([A]);
  });

  it('can be given at creation', async () => {
    await registerResources();
    const { created, client } = await createClient({ allowed_resources: [B] });
    expect(created.allowed_resources).toEqual([B]);
    await expectTarget(await token(client, A));
    await expectTokens(await token(client, B));
  });

  it('refuses unregistered, malformed, empty and non-list values with invalid_client_metadata, changing nothing', async () => {
    await registerResources();
    const { client } = await createClient({ allowed_resources: [A] });
    const cases: [unknown, RegExp][] = [
      [['https://nobody.example.com/api'], /is not a registered resource server/],
      [['https://allowed-a.example.com/mcp#x'], /fragment/],
      [['/relative'], /absolute URI/],
      [[], /must be null .* or a list of 1 to 10/],
      ['https://allowed-a.example.com/mcp', /must be null/],
      [[42], /must be null/],
      [Array.from({ length: 11 }, (_, i) => `https://r${i}.example.com`), /1 to 10/],
    ];
    for (const [value, why] of cases) {
      const res = await admin('PATCH', `/clients/${client.id}`, { allowed_resources: value });
      expect(res.status).toBe(400);
      const e = await errorOf(res);
      expect(e.error).toBe('invalid_client_metadata');
      expect(e.description).toMatch(why);
      const created = await admin('POST', '/clients', {
        client_name: 'X',
        grant_types: ['client_credentials'],
        allowed_resources: value,
      });
      expect(created.status).toBe(400);
    }
    expect(await json(await admin('GET', `/clients/${client.id}`), 200)).toMatchObject({ allowed_resources: [A] });
  });
});
