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

const derived = new WeakMap<Uint8Array, Map<string, Promise<Uint8Array>>>();

/** A 256-bit subkey of KEY_ENCRYPTION_KEY for one purpose (RFC 5869 HKDF-SHA-256, WebCrypto). */
export function subkey(keyEncryptionKey: Uint8Array, purpose: string): Promise<Uint8Array> {
  let byPurpose = derived.get(keyEncryptionKey);
  if (!byPurpose) {
    byPurpose = new Map();
    derived.set(keyEncryptionKey, byPurpose);
  }
  let key = byPurpose.get(purpose);
  if (!key) {
    key = (async () => {
      const ikm = await crypto.subtle.importKey('raw', keyEncryptionKey, 'HKDF', false, ['deriveBits']);
      const bits = await crypto.subtle.deriveBits(
        {
          name: 'HKDF',
          hash: 'SHA-256',
          salt: new Uint8Array(0),
          info: new TextEncoder().encode(`edge-oauth ${purpose} v1`),
        },
        ikm,
        256,
      );
      return new Uint8Array(bits);
    })();
    byPurpose.set(purpose, key);
  }
  return key;
}
