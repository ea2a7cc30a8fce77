/** Image bytes and token helpers for the files tests. */
import { call, expectTokens, type TestClient, tokenRequest } from './helpers';

const enc = (s: string) => [...s].map((c) => c.charCodeAt(0));

/** `size` bytes that open with the given magic number and continue with random bytes. */
function withMagic(magic: number[], size: number): Uint8Array {
  const out = new Uint8Array(Math.max(size, magic.length));
  for (let i = magic.length; i < out.length; i += 65536)
    crypto.getRandomValues(out.subarray(i, Math.min(i + 65536, out.length)));
  out.set(magic);
  return out;
}

export const png = (size = 256) => withMagic([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], size);
export const jpeg = (size = 256) => withMagic([0xff, 0xd8, 0xff, 0xe0], size);
export const gif = (size = 256) => withMagic(enc('GIF89a'), size);
export const webp = (size = 256) => withMagic([...enc('RIFF'), 0, 0, 0, 0, ...enc('WEBPVP8 ')], size);
/** ftyp box of 28 bytes: major brand mif1, compatible brands mif1 avif miaf. */
export const avif = (size = 256) =>
  withMagic([0, 0, 0, 28, ...enc('ftypmif1'), 0, 0, 0, 0, ...enc('mif1avifmiaf')], size);
export const svg = () =>
  new TextEncoder().encode(
    '<?xml version="1.0"?>\n<!-- logo -->\n<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"><script>alert(1)</script></svg>',
  );

export async function clientToken(client: TestClient, scope: string): Promise<string> {
  return (await expectTokens(await tokenRequest({ grant_type: 'client_credentials', scope }, { client }))).access_token;
}

export async function userToken(
  client: TestClient,
  user: { email: string; password: string },
  scope: string,
): Promise<string> {
  return (
    await expectTokens(
      await tokenRequest({ grant_type: 'password', username: user.email, password: user.password, scope }, { client }),
    )
  ).access_token;
}

export function putImage(
  path: string,
  bytes: Uint8Array,
  token: string,
  type = 'image/png',
  headers: Record<string, string> = {},
): Promise<Response> {
  return call(`/v1/img/${path}`, {
    method: 'PUT',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': type, ...headers },
    body: bytes,
  });
}

/** PUT that must succeed; returns the 201 body. */
export async function uploaded(path: string, bytes: Uint8Array, token: string, type = 'image/png') {
  const res = await putImage(path, bytes, token, type);
  if (res.status !== 201) throw new Error(`upload ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as { path: string; url: string; content_type: string; size: number; etag: string };
}

/** GET with the token in the header (default) or the query string. */
export function getImage(
  path: string,
  token: string | null,
  opts: { query?: boolean; headers?: Record<string, string>; method?: string } = {},
): Promise<Response> {
  const headers: Record<string, string> = { ...opts.headers };
  let url = `/v1/img/${path}`;
  if (token && opts.query) url += `?access_token=${encodeURIComponent(token)}`;
  else if (token) headers.Authorization = `Bearer ${token}`;
  return call(url, { method: opts.method ?? 'GET', headers });
}

export async function bytesOf(res: Response): Promise<Uint8Array> {
  return new Uint8Array(await res.arrayBuffer());
}
