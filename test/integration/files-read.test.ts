/** GET/HEAD /v1/img: scope rules, ownership (404 for others), conditional and range requests. */
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { bytesOf, clientToken, getImage, png, uploaded, userToken } from '../files-fixtures';
import { call, errorOf, seedClient, seedUser, type TestClient } from '../helpers';

let appA: TestClient;
let appB: TestClient;
const tok: Record<string, string> = {};
const userPhoto = png(5000);
const appLogo = png(300);

beforeAll(async () => {
  appA = await seedClient();
  appB = await seedClient();
  const u = await seedUser();
  const v = await seedUser();
  for (const scope of ['files', 'base', 'upload_files', 'files upload_files'])
    tok[`A:${scope}`] = await clientToken(appA, scope);
  tok['B:files'] = await clientToken(appB, 'files');
  tok['B:upload_files'] = await clientToken(appB, 'upload_files');
  tok['U@A:upload_files'] = await userToken(appA, u, 'upload_files');
  tok['U@A:files'] = await userToken(appA, u, 'files');
  tok['U@B:files'] = await userToken(appB, u, 'files');
  tok['V@B:base'] = await userToken(appB, v, 'base');
  await uploaded('u/photo.png', userPhoto, tok['U@A:upload_files']);
  await uploaded('app/logo.png', appLogo, tok['A:upload_files']);
});

async function expectBearerError(res: Response, status: number, error: string) {
  expect(res.status).toBe(status);
  expect(res.headers.get('WWW-Authenticate')).toMatch(new RegExp(`^Bearer realm="api", error="${error}"`));
  expect(res.headers.get('Cache-Control')).toBe('no-store');
  const body = await errorOf(res);
  expect(body.error).toBe(error);
  return body;
}

describe('scope rules', () => {
  it('serves a files token from the query string (seed 002) with the image headers', async () => {
    const res = await getImage('u/photo.png', tok['A:files'], { query: true });
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Type')).toBe('image/png');
    expect(res.headers.get('Content-Length')).toBe(String(userPhoto.length));
    expect(res.headers.get('ETag')).toMatch(/^"[0-9a-f]{32}"$/);
    expect(new Date(res.headers.get('Last-Modified')!).getTime()).toBeGreaterThan(Date.now() - 600_000);
    expect(res.headers.get('Cache-Control')).toBe('private');
    expect(res.headers.get('Referrer-Policy')).toBe('no-referrer');
    expect(res.headers.get('X-Content-Type-Options')).toBe('nosniff');
    expect(res.headers.get('Content-Security-Policy')).toContain('sandbox');
    expect(await bytesOf(res)).toEqual(userPhoto);
  });

  it('serves files and base tokens from the Authorization header', async () => {
    for (const key of ['A:files', 'A:base', 'A:files upload_files']) {
      const res = await getImage('app/logo.png', tok[key]);
      expect(res.status, key).toBe(200);
      expect(await bytesOf(res)).toEqual(appLogo);
    }
  });

  it('refuses a base, upload_files or mixed token in the URL with invalid_token naming the files scope', async () => {
    for (const key of ['A:base', 'A:upload_files', 'A:files upload_files']) {
      const body = await expectBearerError(
        await getImage('app/logo.png', tok[key], { query: true }),
        401,
        'invalid_token',
      );
      expect(body.description).toContain('scope=files');
    }
  });

  it('refuses an upload_files-only token in the header with insufficient_scope', async () => {
    const res = await getImage('app/logo.png', tok['A:upload_files']);
    await expectBearerError(res.clone(), 403, 'insufficient_scope');
    expect(res.headers.get('WWW-Authenticate')).toContain('scope="files base"');
  });

  it('refuses a token sent both ways, a repeated parameter, a bad or missing token', async () => {
    const both = await call2(`/v1/img/app/logo.png?access_token=${tok['A:files']}`, tok['A:files']);
    await expectBearerError(both, 400, 'invalid_request');
    await expectBearerError(
      await call2(`/v1/img/app/logo.png?access_token=${tok['A:files']}&access_token=${tok['A:files']}`),
      400,
      'invalid_request',
    );
    await expectBearerError(await getImage('app/logo.png', 'not-a-jwt', { query: true }), 401, 'invalid_token');
    const none = await getImage('app/logo.png', null);
    expect(none.status).toBe(401);
    expect(none.headers.get('WWW-Authenticate')).toBe(
      'Bearer realm="api", scope="files base", resource_metadata="http://localhost:8787/.well-known/oauth-protected-resource/v1"',
    );
  });

  it('answers HEAD with the headers and no body', async () => {
    const res = await getImage('app/logo.png', tok['A:files'], { query: true, method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Length')).toBe(String(appLogo.length));
    expect(res.headers.get('Content-Type')).toBe('image/png');
    expect((await bytesOf(res)).length).toBe(0);
  });
});

/** A raw GET, for query strings the fixture helper does not build. */
function call2(path: string, bearer?: string) {
  return call(path, { headers: bearer ? { Authorization: `Bearer ${bearer}` } : {} });
}

describe('who may read what', () => {
  it('lets a user read their own image and the app read its users’ images', async () => {
    expect((await getImage('u/photo.png', tok['U@A:files'], { query: true })).status).toBe(200);
    expect((await getImage('u/photo.png', tok['A:files'], { query: true })).status).toBe(200);
  });

  it('answers 404 to other clients and other users exactly as for a missing image', async () => {
    const missing = await getImage('u/nothing-here.png', tok['A:files'], { query: true });
    const expected = {
      status: missing.status,
      body: await missing.json(),
      www: missing.headers.get('WWW-Authenticate'),
    };
    expect(expected.status).toBe(404);
    const probes: [string, string, Record<string, string>?][] = [
      ['u/photo.png', 'B:files'], // another client's files token
      ['u/photo.png', 'V@B:base'], // another user, through another client
      ['u/photo.png', 'U@B:files'], // the owner, through another client: paths are per client (docs/files.md)
      ['app/logo.png', 'B:files', { 'If-None-Match': '*' }], // no 304 for someone else's object
      ['app/logo.png', 'B:files', { Range: 'bytes=999999-' }], // nor 416
    ];
    for (const [path, key, headers] of probes) {
      const res = await getImage(path, tok[key], { headers, query: key.endsWith(':files') });
      expect(
        { status: res.status, body: await res.json(), www: res.headers.get('WWW-Authenticate') },
        `${key} ${path}`,
      ).toEqual(expected);
    }
  });

  it('keeps the same path of two clients apart', async () => {
    const other = png(200);
    await uploaded('app/logo.png', other, tok['B:upload_files']);
    expect(await bytesOf(await getImage('app/logo.png', tok['A:files'], { query: true }))).toEqual(appLogo);
    expect(await bytesOf(await getImage('app/logo.png', tok['B:files'], { query: true }))).toEqual(other);
  });

  it('refuses an object in the namespace whose recorded ownership is someone else’s, or missing', async () => {
    const ns = `c/${appA.id}/`;
    await env.FILES.put(`${ns}planted.png`, png(), {
      httpMetadata: { contentType: 'image/png' },
      customMetadata: { owner: 'usr_other', client_id: 'cli_other' },
    });
    await env.FILES.put(`${ns}bare.png`, png(), { httpMetadata: { contentType: 'image/png' } });
    expect((await getImage('planted.png', tok['A:files'], { query: true })).status).toBe(404);
    expect((await getImage('bare.png', tok['A:files'], { query: true })).status).toBe(404);
  });
});

describe('conditional and range requests', () => {
  it('answers 304 to If-None-Match and If-Modified-Since, 200 when changed', async () => {
    const first = await getImage('u/photo.png', tok['A:files'], { query: true });
    const etag = first.headers.get('ETag')!;
    const lastModified = first.headers.get('Last-Modified')!;
    await first.arrayBuffer();
    for (const headers of [
      { 'If-None-Match': etag },
      { 'If-None-Match': `W/${etag}` },
      { 'If-Modified-Since': lastModified },
    ] as Record<string, string>[]) {
      const res = await getImage('u/photo.png', tok['A:files'], { query: true, headers });
      expect(res.status, JSON.stringify(headers)).toBe(304);
      expect(res.headers.get('ETag')).toBe(etag);
      expect(res.headers.get('Cache-Control')).toBe('private');
      expect((await bytesOf(res)).length).toBe(0);
    }
    const earlier = new Date(Date.parse(lastModified) - 10_000).toUTCString();
    for (const headers of [{ 'If-None-Match': '"0123"' }, { 'If-Modified-Since': earlier }] as Record<
      string,
      string
    >[]) {
      const res = await getImage('u/photo.png', tok['A:files'], { query: true, headers });
      expect(res.status).toBe(200);
      expect(await bytesOf(res)).toEqual(userPhoto);
    }
  });

  it('answers 206 with Content-Range for one range', async () => {
    const size = userPhoto.length;
    const cases: [string, number, number][] = [
      ['bytes=2-9', 2, 9],
      ['bytes=4990-', 4990, size - 1],
      ['bytes=-5', size - 5, size - 1],
      ['bytes=4995-99999', 4995, size - 1],
    ];
    for (const [range, first, last] of cases) {
      const res = await getImage('u/photo.png', tok['A:files'], { query: true, headers: { Range: range } });
      expect(res.status, range).toBe(206);
      expect(res.headers.get('Content-Range')).toBe(`bytes ${first}-${last}/${size}`);
      expect(res.headers.get('Content-Length')).toBe(String(last - first + 1));
      expect(await bytesOf(res)).toEqual(userPhoto.slice(first, last + 1));
    }
  });

  it('answers 416 to a range beyond the end, and ignores ranges it cannot serve', async () => {
    for (const range of [`bytes=${userPhoto.length}-`, 'bytes=-0']) {
      const res = await getImage('u/photo.png', tok['A:files'], { query: true, headers: { Range: range } });
      expect(res.status, range).toBe(416);
      expect(res.headers.get('Cache-Control')).toBe('private');
      await res.arrayBuffer();
    }
    const multi = await getImage('u/photo.png', tok['A:files'], { query: true, headers: { Range: 'bytes=0-1,5-6' } });
    expect(multi.status).toBe(200);
    expect(await bytesOf(multi)).toEqual(userPhoto);
  });
});

describe('path validation', () => {
  it.each(['a//b.png', 'a%2F..%2Fb.png', 'a/..%2Fb.png', '%2e%2e%5Cx.png', 'a%00.png', 'a%0D%0A.png', 'x'.repeat(600)])(
    'answers 400 to %j',
    async (path) => {
      await expectBearerError(await getImage(path, tok['A:files'], { query: true }), 400, 'invalid_request');
    },
  );

  it('never sees plain or encoded dot segments: URL parsing resolves them before routing', async () => {
    // /v1/img/%2e%2e/x.png is /v1/x.png to the WHATWG URL parser: not an image route at all.
    const res = await getImage('%2e%2e/app/logo.png', tok['A:files'], { query: true });
    expect(res.status).toBe(404);
    expect((await errorOf(res)).description).toMatch(/^No such endpoint/);
  });
});
