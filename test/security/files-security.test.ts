/**
 * Image URLs and tenants, the cases test/integration/files-read.test.ts does not already cover (see
 * docs/security-tests.md): user tokens other than `files` in the URL, and another client's user probing
 * with a `files` token. A tenant is a client: R2 keys are `c/<client_id>/<path>` (docs/files.md).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { bytesOf, clientToken, getImage, png, uploaded, userToken } from '../files-fixtures';
import { errorOf, seedClient, seedUser } from '../helpers';

const tok: Record<string, string> = {};
const photo = png(3000);

beforeAll(async () => {
  const appA = await seedClient();
  const appB = await seedClient();
  const u = await seedUser();
  const v = await seedUser();
  for (const scope of ['files', 'base', 'upload_files', 'files base', 'files upload_files'])
    tok[`U@A:${scope}`] = await userToken(appA, u, scope);
  tok['V@B:files'] = await userToken(appB, v, 'files');
  tok['B:files'] = await clientToken(appB, 'files');
  await uploaded('tenant/photo.png', photo, tok['U@A:upload_files']);
});

describe('a token other than `files` alone in an image URL', () => {
  it.each(['base', 'upload_files', 'files base', 'files upload_files'])(
    'user token with scope "%s": 401 invalid_token, no bytes',
    async (scope) => {
      const res = await getImage('tenant/photo.png', tok[`U@A:${scope}`], { query: true });
      expect(res.status).toBe(401);
      expect(res.headers.get('WWW-Authenticate')).toMatch(/^Bearer realm="api", error="invalid_token"/);
      expect(res.headers.get('Cache-Control')).toBe('no-store');
      expect(res.headers.get('Content-Type')).toMatch(/^application\/json/);
      expect(await errorOf(res)).toMatchObject({
        error: 'invalid_token',
        description: expect.stringContaining('scope "files"'),
      });
    },
  );

  it('the same user with a files token in the URL gets the image (control)', async () => {
    const res = await getImage('tenant/photo.png', tok['U@A:files'], { query: true });
    expect(res.status).toBe(200);
    expect(await bytesOf(res)).toEqual(photo);
  });
});

describe("another tenant's image", () => {
  it("is 404, exactly as a missing image, to a files token of another client's user and of that client itself", async () => {
    const missing = await getImage('tenant/none.png', tok['V@B:files'], { query: true });
    const expected = {
      status: missing.status,
      body: await missing.json(),
      www: missing.headers.get('WWW-Authenticate'),
    };
    expect(expected.status).toBe(404);
    for (const key of ['V@B:files', 'B:files']) {
      for (const query of [true, false]) {
        const res = await getImage('tenant/photo.png', tok[key], { query });
        expect(
          { status: res.status, body: await res.json(), www: res.headers.get('WWW-Authenticate') },
          `${key} query=${query}`,
        ).toEqual(expected);
      }
    }
  });
});
