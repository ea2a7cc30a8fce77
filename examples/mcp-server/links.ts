/**
 * Short-lived signed links to one image (tool get_image_link): HMAC-SHA-256 (Web Crypto) over "key\nexpiry", expiry
 * in the URL, compared in constant time (crypto.subtle.verify). The link carries no token, so the user's access
 * token never leaves this Worker (MCP authorization spec: no token passthrough).
 */
const enc = new TextEncoder();

async function hmacKey(secret: string): Promise<CryptoKey> {
  return crypto.subtle.importKey('raw', enc.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, [
    'sign',
    'verify',
  ]);
}

const b64u = (bytes: ArrayBuffer) =>
  btoa(String.fromCharCode(...new Uint8Array(bytes)))
    .replaceAll('+', '-')
    .replaceAll('/', '_')
    .replace(/=+$/, '');

function fromB64u(s: string): Uint8Array | null {
  try {
    const bin = atob(s.replaceAll('-', '+').replaceAll('_', '/'));
    return Uint8Array.from(bin, (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}

/** `<origin>/link?k=<key>&e=<expiry>&s=<mac>`, valid `ttl` seconds. */
export async function signLink(origin: string, secret: string, key: string, ttl: number): Promise<string> {
  const e = Math.floor(Date.now() / 1000) + ttl;
  const mac = await crypto.subtle.sign('HMAC', await hmacKey(secret), enc.encode(`${key}\n${e}`));
  const u = new URL('/link', origin);
  u.searchParams.set('k', key);
  u.searchParams.set('e', String(e));
  u.searchParams.set('s', b64u(mac));
  return u.toString();
}

/** The R2 key a link names, or null when it is expired, malformed or not signed by us. */
export async function verifyLink(url: URL, secret: string): Promise<string | null> {
  const k = url.searchParams.get('k');
  const e = Number(url.searchParams.get('e'));
  const s = fromB64u(url.searchParams.get('s') ?? '');
  if (!k || !Number.isInteger(e) || !s || e < Math.floor(Date.now() / 1000)) return null;
  const ok = await crypto.subtle.verify('HMAC', await hmacKey(secret), s, enc.encode(`${k}\n${e}`));
  return ok ? k : null;
}
