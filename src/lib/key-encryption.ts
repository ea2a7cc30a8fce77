/**
 * Private signing keys at rest: AES-256-GCM (WebCrypto) under KEY_ENCRYPTION_KEY, with the key id as
 * additional authenticated data so a stored blob cannot be swapped onto another row.
 * Format: base64url(iv[12] ‖ ciphertext+tag).
 */
import { base64url } from 'jose';

const kekCache = new WeakMap<Uint8Array, Promise<CryptoKey>>();

function importKek(raw: Uint8Array): Promise<CryptoKey> {
  let key = kekCache.get(raw);
  if (!key) {
    key = crypto.subtle.importKey('raw', raw, 'AES-GCM', false, ['encrypt', 'decrypt']);
    kekCache.set(raw, key);
  }
  return key;
}

/** Encrypts a JSON value bound to `aad`. */
export async function sealJson(kek: Uint8Array, aad: string, value: unknown): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ct = await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv, additionalData: new TextEncoder().encode(aad) },
    await importKek(kek),
    new TextEncoder().encode(JSON.stringify(value)),
  );
  const out = new Uint8Array(12 + ct.byteLength);
  out.set(iv);
  out.set(new Uint8Array(ct), 12);
  return base64url.encode(out);
}

/** Decrypts what `sealJson` wrote; throws if the key, the aad or the blob is wrong. */
export async function openJson<T>(kek: Uint8Array, aad: string, sealed: string): Promise<T> {
  const bytes = base64url.decode(sealed);
  const pt = await crypto.subtle.decrypt(
    { name: 'AES-GCM', iv: bytes.slice(0, 12), additionalData: new TextEncoder().encode(aad) },
    await importKek(kek),
    bytes.slice(12),
  );
  return JSON.parse(new TextDecoder().decode(pt)) as T;
}
