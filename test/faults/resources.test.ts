/**
 * Fault matrix, protected resources (issue 16, docs/fault-matrix.md): image upload, read and delete in R2, /v1/me and
 * OpenID Connect userinfo. On these routes a storage failure is the 503 of src/storage/unavailable.ts: RFC 6749
 * §5.2-shaped JSON with Retry-After and no WWW-Authenticate (a challenge would blame the client's token).
 */
import { env } from 'cloudflare:workers';
import { afterAll, describe, expect, it } from 'vitest';
import { png } from '../files-fixtures';
import { ORIGIN, seedClient, seedUser, type TestClient } from '../helpers';
import { formRequest, quickUser, seedCode } from './fixtures';
import { sendClean } from './harness';
import { CLIENT_CACHE, newTally, type Outcome, report, runOperation } from './matrix';

const tally = newTally();
async function accessToken(params: Record<string, string>, client: TestClient): Promise<string> {
  const out = await sendClean(formRequest('/oauth2/token', params, client));
  expect(out.res.status, out.body).toBe(200);
  return (JSON.parse(out.body) as { access_token: string }).access_token;
}

interface Image {
  client: TestClient;
  token: string;
  path: string;
  bytes: Uint8Array;
}

async function freshImage(upload: boolean): Promise<Image> {
  const client = await seedClient();
  const token = await accessToken({ grant_type: 'client_credentials', scope: 'base upload_files' }, client);
  const img = { client, token, path: `fault-${crypto.randomUUID()}.png`, bytes: png(2048) };
  if (upload) expect((await sendClean(putRequest(img))).res.status).toBe(201);
  return img;
}

function putRequest({ token, path, bytes }: Image): Request {
  return new Request(`${ORIGIN}/v1/img/${path}`, {
    method: 'PUT',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'image/png' },
    body: bytes,
  });
}

const bearerRequest = (method: string, path: string, token: string) =>
  new Request(`${ORIGIN}${path}`, { method, headers: { Authorization: `Bearer ${token}` } });

const digest = async (b: Uint8Array) =>
  btoa(String.fromCharCode(...new Uint8Array(await crypto.subtle.digest('SHA-256', b))));

/** The object in R2 is whole (the bytes sent) or absent: never a part. */
async function wholeOrAbsent(img: Image): Promise<boolean> {
  const list = await env.FILES.list({ prefix: '' });
  const obj = list.objects.find((o) => o.key.endsWith(`/${img.path}`));
  if (!obj) return false;
  const body = await env.FILES.get(obj.key);
  const got = new Uint8Array(await body!.arrayBuffer());
  expect(got.byteLength).toBe(img.bytes.byteLength);
  expect(await digest(got)).toBe(await digest(img.bytes));
  return true;
}

describe('fault matrix: protected resources', () => {
  it('image upload (PUT /v1/img/...): whole or absent in R2', async () => {
    await runOperation<Image>(
      {
        name: 'image PUT',
        surface: 'resource',
        setup: () => freshImage(false),
        request: putRequest,
        ok: (out) => expect(out.res.status, out.body).toBe(201),
        bestEffort: CLIENT_CACHE,
        consistent: async (img) => void (await wholeOrAbsent(img)),
        // The retry of a PUT whose reply was lost replaces the owner's own object: 200 or 201.
        retry: async (img) => {
          const again = await sendClean(putRequest(img));
          expect([200, 201], again.body).toContain(again.res.status);
          expect(await wholeOrAbsent(img)).toBe(true);
        },
      },
      tally,
    );
  });

  it('image read (GET /v1/img/...)', async () => {
    await runOperation<Image>(
      {
        name: 'image GET',
        surface: 'resource',
        setup: () => freshImage(true),
        request: (img) => bearerRequest('GET', `/v1/img/${img.path}`, img.token),
        ok: (out) => {
          expect(out.res.status, out.body.slice(0, 200)).toBe(200);
          expect(out.res.headers.get('Content-Type')).toBe('image/png');
        },
        bestEffort: CLIENT_CACHE,
      },
      tally,
    );
  });

  it('image delete (DELETE /v1/img/...)', async () => {
    await runOperation<Image>(
      {
        name: 'image DELETE',
        surface: 'resource',
        setup: () => freshImage(true),
        request: (img) => bearerRequest('DELETE', `/v1/img/${img.path}`, img.token),
        ok: (out) => expect(out.res.status, out.body).toBe(204),
        bestEffort: CLIENT_CACHE,
        consistent: async (img) => void (await wholeOrAbsent(img)),
        // Deleted by the failed request already (its reply was lost): 404 says it is gone, which is what was asked.
        retry: async (img) => {
          const again = await sendClean(bearerRequest('DELETE', `/v1/img/${img.path}`, img.token));
          expect([204, 404], again.body).toContain(again.res.status);
          expect(await wholeOrAbsent(img)).toBe(false);
        },
      },
      tally,
    );
  });

  it('/v1/me with a user token and with a client token', async () => {
    const meOk = (out: Outcome) => {
      expect(out.res.status, out.body).toBe(200);
      expect(JSON.parse(out.body)).toHaveProperty('client_id');
    };
    await runOperation<{ token: string }>(
      {
        name: '/v1/me (user token)',
        surface: 'resource',
        setup: async () => {
          const client = await seedClient();
          const user = await seedUser();
          return {
            token: await accessToken({ grant_type: 'password', username: user.email, password: user.password }, client),
          };
        },
        request: ({ token }) => bearerRequest('GET', '/v1/me', token),
        ok: meOk,
        // The user's cached summary (src/storage/user-summaries.ts): a failed KV read is a D1 read, a failed fill a warning.
        bestEffort: [...CLIENT_CACHE, /^KV\.(get|put) user:/],
      },
      tally,
    );
    await runOperation<{ token: string }>(
      {
        name: '/v1/me (client token)',
        surface: 'resource',
        setup: async () => ({ token: await accessToken({ grant_type: 'client_credentials' }, await seedClient()) }),
        request: ({ token }) => bearerRequest('GET', '/v1/me', token),
        ok: meOk,
        bestEffort: CLIENT_CACHE,
      },
      tally,
    );
  });

  it('OpenID Connect userinfo (GET /oauth2/userinfo)', async () => {
    await runOperation<{ token: string }>(
      {
        name: 'userinfo',
        surface: 'resource',
        setup: async () => {
          const client = await seedClient();
          const user = await quickUser();
          const { code, verifier } = await seedCode(client.id, user.id, 'openid base');
          return {
            token: await accessToken(
              {
                grant_type: 'authorization_code',
                code,
                redirect_uri: 'https://app.example/cb',
                code_verifier: verifier,
              },
              client,
            ),
          };
        },
        request: ({ token }) => bearerRequest('GET', '/oauth2/userinfo', token),
        ok: (out) => {
          expect(out.res.status, out.body).toBe(200);
          expect(JSON.parse(out.body)).toHaveProperty('sub');
        },
        bestEffort: CLIENT_CACHE,
      },
      tally,
    );
  });

  afterAll(() => {
    report('protected resources', tally);
  });

  it('figure: every case tried held', () => {
    expect(tally.failures).toEqual([]);
    expect(tally.held).toBe(tally.tried);
  });
});
