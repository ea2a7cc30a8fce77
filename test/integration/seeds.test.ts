/**
 * Issue 11: every request of seeds 000, 001 and 002 (/work/shared/seeds), replayed as the document writes it with only
 * the host replaced (and seed 000's shell-quoting typo fixed), gets the answer the document shows. `curl -u ID:SECRET`
 * is `Authorization: Basic base64(ID:SECRET)`; `-d a -d b` is a urlencoded POST body `a&b`.
 * token_type: seed 000 shows "bearer", seed 001 "Bearer"; the value is case-insensitive (RFC 6749 §5.1, §7.1) and
 * the server sends "Bearer".
 */
import { describe, expect, it } from 'vitest';
import { png, putImage } from '../files-fixtures';
import { call, errorOf, seedClient, seedUser, type TokenJson } from '../helpers';

/** What `curl -u ID:SECRET "URL" -d … -d …` sends. */
function curl(url: string, client: { id: string; secret: string }, ...data: string[]): Promise<Response> {
  return call(url, {
    method: 'POST',
    headers: {
      Authorization: `Basic ${btoa(`${client.id}:${client.secret}`)}`,
      'Content-Type': 'application/x-www-form-urlencoded',
    },
    body: data.join('&'),
  });
}

async function tokens(res: Response): Promise<TokenJson> {
  expect(res.status).toBe(200);
  const body = (await res.json()) as TokenJson;
  expect(body.token_type.toLowerCase()).toBe('bearer');
  expect(body.token_type).toBe('Bearer');
  expect(body.expires_in).toBe(3600);
  expect(typeof body.access_token).toBe('string');
  return body;
}

describe('seed 000 (Creads Partners API, OAuth2)', () => {
  it('client_credentials: access_token, expires_in 3600, token_type, scope base', async () => {
    const client = await seedClient();
    const t = await tokens(await curl('/oauth2/token', client, 'grant_type=client_credentials'));
    expect(t.scope).toBe('base');
    expect(t.refresh_token).toBeUndefined();
  });

  it('password, with grant_type repeated in the query string: tokens with a refresh_token, scope base', async () => {
    const client = await seedClient();
    const user = await seedUser();
    const body = `grant_type=password&username=${encodeURIComponent(user.email)}&password=${encodeURIComponent(user.password)}`;
    const t = await tokens(await curl('/oauth2/token?grant_type=password', client, body));
    expect(t.scope).toBe('base');
    expect(typeof t.refresh_token).toBe('string');
  });

  it('refresh_token, sent with ?grant_type=password as written: the body wins, new tokens', async () => {
    const client = await seedClient();
    const user = await seedUser();
    const body = `grant_type=password&username=${encodeURIComponent(user.email)}&password=${encodeURIComponent(user.password)}`;
    const first = await tokens(await curl('/oauth2/token?grant_type=password', client, body));
    const t = await tokens(
      await curl(
        '/oauth2/token?grant_type=password',
        client,
        'grant_type=refresh_token',
        `refresh_token=${first.refresh_token}`,
      ),
    );
    expect(t.scope).toBe('base');
    expect(t.refresh_token).not.toBe(first.refresh_token);
  });

  it('scope=files, then the token appended to an image URL', async () => {
    await filesToken(await seedClient());
  });
});

/** Seeds 000 and 002: `-d 'grant_type=client_credentials' -d 'scope=files'`, then `<img src=".../v1/img/whateverImage.png?access_token=…">`. */
async function filesToken(client: { id: string; secret: string }): Promise<void> {
  const upload = await tokens(
    await curl('/oauth2/token', client, 'grant_type=client_credentials', 'scope=upload_files'),
  );
  const bytes = png(500);
  expect((await putImage('whateverImage.png', bytes, upload.access_token)).status).toBe(201);
  const t = await tokens(await curl('/oauth2/token', client, 'grant_type=client_credentials', 'scope=files'));
  expect(t.scope).toBe('files');
  const img = await call(`/v1/img/whateverImage.png?access_token=${t.access_token}`);
  expect(img.status).toBe(200);
  expect(img.headers.get('Content-Type')).toBe('image/png');
  expect(new Uint8Array(await img.arrayBuffer())).toEqual(bytes);
}

describe('seed 001 (CitrusAd, OAuth 2.0 authentication)', () => {
  const request = (
    client: { id: string; secret: string },
    body = 'grant_type=client_credentials',
    type = 'application/x-www-form-urlencoded',
  ) =>
    call('/v1/oauth2/token', {
      method: 'POST',
      headers: { 'Content-Type': type, Authorization: `Basic ${btoa(`${client.id}:${client.secret}`)}` },
      body,
    });

  it('POST /v1/oauth2/token with Basic: access_token, expires_in 3600, token_type Bearer; then Authorization: Bearer', async () => {
    const client = await seedClient();
    const t = await tokens(await request(client));
    // The seed's /v1/ads/generate is CitrusAd's own API; this server's JSON API for a Bearer token is /v1/me.
    const me = await call('/v1/me', { headers: { Authorization: `Bearer ${t.access_token}` } });
    expect(me.status).toBe(200);
    expect(me.headers.get('Content-Type')).toContain('application/json');
  });

  it('a wrong client_id or client_secret: {"error":"invalid_client"}', async () => {
    const client = await seedClient();
    for (const wrong of [
      { ...client, secret: 'wrong' },
      { id: 'cl_nobody', secret: client.secret },
    ]) {
      const err = await errorOf(await request(wrong));
      expect([err.status, err.error]).toEqual([401, 'invalid_client']);
    }
  });

  it('a missing, repeated or malformed parameter, or the wrong Content-Type: {"error":"invalid_request"}', async () => {
    const client = await seedClient();
    for (const [body, type] of [
      ['', undefined],
      ['grant_type=client_credentials&grant_type=client_credentials', undefined],
      ['grant_type=%ZZ', undefined],
      ['{"grant_type":"client_credentials"}', 'application/json'],
    ] as const) {
      const err = await errorOf(await request(client, body, type));
      expect([body, err.status, err.error]).toEqual([body, 400, 'invalid_request']);
    }
  });
});

describe('seed 002 (Creads Partners API, Scopes)', () => {
  it('client_credentials with scope=files, then the token appended to an image URL', async () => {
    await filesToken(await seedClient());
  });
});
