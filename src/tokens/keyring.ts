/**
 * The signing key ring: the current key signs, every key in the ring verifies (by `kid`).
 * Keys come from D1 (rotated at run time by the admin API, private halves AES-GCM encrypted) or, while D1 has
 * no current key, from the SIGNING_KEYS secret (bootstrap). jose only; no hand-rolled crypto.
 */
import { type CryptoKey, importJWK, type JWK } from 'jose';
import { type Config, getConfig, type SigningAlg, type SigningJwk } from '../config';
import { clock, nowSeconds } from '../lib/clock';
import { openJson } from '../lib/key-encryption';
import { KEY_RING_COPY_KEY, loadLiveKeys, type SigningKeyRow } from '../storage/signing-keys';
import { freshCopy, type RawCopy, readStampedCopy, writeStampedCopy } from '../storage/stamped-copy';

export interface RingKey {
  kid: string;
  alg: SigningAlg;
  key: CryptoKey;
}

export type Signer = RingKey & { privateKey: CryptoKey };

export interface KeyRing {
  /** The key that signs new access tokens (ES256 or EdDSA; never RS256). */
  signing: Signer;
  /**
   * ID-token signers by algorithm (OpenID Connect Core §15.1 makes RS256 mandatory): the access-token key under its
   * algorithm, and the current RS256 key when the ring has one.
   */
  idTokenSigners: Map<SigningAlg, Signer>;
  /** Public keys by kid: every key whose tokens may still be alive. */
  verify: Map<string, RingKey>;
  /** RFC 7517 JWK Set of the public keys, for /.well-known/jwks.json. */
  jwks: { keys: JWK[] };
}

/** The public half of a private JWK, with the members RFC 7517 §4 recommends. */
export function publicJwk(jwk: SigningJwk): JWK {
  // EC/OKP: d; RSA: d and the CRT members (RFC 7518 §6.3.2).
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...pub } = jwk;
  return { ...pub, use: 'sig' };
}

async function signerOf(jwk: SigningJwk, pub: RingKey): Promise<Signer> {
  return { ...pub, privateKey: (await importJWK(jwk, jwk.alg)) as CryptoKey };
}

/** The ring of the SIGNING_KEYS secret: the first ES256/EdDSA key signs access tokens, the first RS256 key ID tokens. */
export async function buildKeyRing(privateJwks: SigningJwk[]): Promise<KeyRing> {
  const verify = new Map<string, RingKey>();
  const publics: JWK[] = [];
  for (const jwk of privateJwks) {
    if (verify.has(jwk.kid)) continue;
    const pub = publicJwk(jwk);
    verify.set(jwk.kid, { kid: jwk.kid, alg: jwk.alg, key: (await importJWK(pub, jwk.alg)) as CryptoKey });
    publics.push(pub);
  }
  const first = privateJwks.find((k) => k.alg !== 'RS256')!; // the config requires one
  const signing = await signerOf(first, verify.get(first.kid)!);
  const idTokenSigners = new Map<SigningAlg, Signer>([[signing.alg, signing]]);
  const rsa = privateJwks.find((k) => k.alg === 'RS256');
  if (rsa) idTokenSigners.set('RS256', await signerOf(rsa, verify.get(rsa.kid)!));
  return { signing, idTokenSigners, verify, jwks: { keys: publics } };
}

/** How often an isolate re-reads the D1 keys (and at most how often an unknown kid triggers a re-read). */
export const KEY_REFRESH_SECONDS = 60;

interface CachedRing {
  ring: KeyRing | null;
  /** clock.now() of the last load attempt, ms; for a ring from the KV copy, the copy's D1 read (its stamp). */
  loadedAt: number;
  /** The next load skips the KV copy: the keys changed (resetKeyRing), or a token named a kid the ring lacks. */
  fromD1: boolean;
  /** clock.now() of the last reload caused by an unknown kid, ms. */
  unknownKidAt: number;
  /** The last load's error while there is no ring yet, so a broken key is not re-read on every request. */
  error: unknown;
}

const rings = new WeakMap<Config, CachedRing>();

/**
 * The live key rows: from the KV copy when one younger than KEY_REFRESH_SECONDS exists (issue 17: a cold isolate
 * makes no D1 round trip), else from D1 (one read), which refreshes the copy. `at` is when the rows were read from
 * D1 (the copy's stamp), from which the isolate keeps them at most KEY_REFRESH_SECONDS: so a ring never signs with
 * keys read from D1 longer ago than without KV, which is what PUBLISH_DELAY_SECONDS and a demoted key's
 * verify_until already allow for (src/services/key-rotation.ts, docs/operations.md "Signing keys").
 */
async function liveRows(
  env: Env,
  fromD1: boolean,
  prefetched?: RawCopy,
): Promise<{ rows: SigningKeyRow[]; at: number }> {
  const maxAge = KEY_REFRESH_SECONDS * 1000;
  const copy = fromD1
    ? null
    : prefetched !== undefined
      ? freshCopy<SigningKeyRow[]>(prefetched, maxAge)
      : await readStampedCopy<SigningKeyRow[]>(env.CACHE, KEY_RING_COPY_KEY, maxAge);
  if (copy) {
    // A 'previous' key past its verify_until leaves the ring as a fresh D1 read would leave it out.
    const now = nowSeconds();
    return { rows: copy.value.filter((r) => r.state !== 'previous' || (r.verify_until ?? 0) > now), at: copy.at };
  }
  const at = clock.now();
  const rows = await loadLiveKeys(env.DB, nowSeconds());
  await writeStampedCopy(env.CACHE, KEY_RING_COPY_KEY, at, rows);
  return { rows, at };
}

/**
 * Builds the ring from the live keys: the D1 'current' key signs; 'next' and live 'previous' keys verify and are
 * published. While D1 has no current key, the SIGNING_KEYS secret is the ring (bootstrap), plus any D1 'next' key,
 * so a key is in the JWKS before it ever signs.
 */
async function loadRing(
  env: Env,
  config: Config,
  fromD1: boolean,
  prefetched?: RawCopy,
): Promise<{ ring: KeyRing; at: number }> {
  const { rows, at } = await liveRows(env, fromD1, prefetched);
  return { ring: await ringOf(config, rows), at };
}

async function ringOf(config: Config, rows: SigningKeyRow[]): Promise<KeyRing> {
  const current = rows.find((r) => r.state === 'current' && r.private_jwk_enc && r.alg !== 'RS256');
  const base = current
    ? await ringWithSigner(current, await decryptKey(config, current))
    : await buildKeyRing(config.signingKeys);
  // The ID-token RS256 key rotates with the access-token key (src/services/key-rotation.ts); until a D1 RS256 key is
  // current, the secret's RS256 key (if any) keeps signing ID tokens.
  const currentRsa = rows.find((r) => r.state === 'current' && r.private_jwk_enc && r.alg === 'RS256');
  if (currentRsa) {
    const signer = (await ringWithSigner(currentRsa, await decryptKey(config, currentRsa))).signing;
    base.idTokenSigners.set('RS256', signer);
    base.verify.set(signer.kid, signer);
    base.jwks.keys.push(JSON.parse(currentRsa.public_jwk) as JWK);
  } else if (current && !base.idTokenSigners.has('RS256')) {
    const rsa = config.signingKeys.find((k) => k.alg === 'RS256');
    if (rsa) {
      const pub = publicJwk(rsa);
      const signer = await signerOf(rsa, {
        kid: rsa.kid,
        alg: 'RS256',
        key: (await importJWK(pub, 'RS256')) as CryptoKey,
      });
      base.idTokenSigners.set('RS256', signer);
      if (!base.verify.has(rsa.kid)) {
        base.verify.set(rsa.kid, signer);
        base.jwks.keys.push(pub);
      }
    }
  }
  for (const r of rows) {
    if (base.verify.has(r.kid)) continue;
    const pub = JSON.parse(r.public_jwk) as JWK;
    base.verify.set(r.kid, { kid: r.kid, alg: r.alg, key: (await importJWK(pub, r.alg)) as CryptoKey });
    base.jwks.keys.push(pub);
  }
  return base;
}

async function decryptKey(config: Config, row: SigningKeyRow): Promise<SigningJwk> {
  try {
    return await openJson<SigningJwk>(config.keyEncryptionKey, row.kid, row.private_jwk_enc!);
  } catch {
    throw new Error(`signing key ${row.kid} cannot be decrypted: is KEY_ENCRYPTION_KEY the one it was stored under?`);
  }
}

async function ringWithSigner(row: SigningKeyRow, priv: SigningJwk): Promise<KeyRing> {
  const pub = JSON.parse(row.public_jwk) as JWK;
  const key = (await importJWK(pub, row.alg)) as CryptoKey;
  const privateKey = (await importJWK(priv, row.alg)) as CryptoKey;
  const signing: Signer = { kid: row.kid, alg: row.alg, key, privateKey };
  return {
    signing,
    idTokenSigners: new Map([[row.alg, signing]]),
    verify: new Map([[row.kid, { kid: row.kid, alg: row.alg, key }]]),
    jwks: { keys: [pub] },
  };
}

/**
 * The key ring for this environment, an in-isolate cache: re-read from D1 at most every KEY_REFRESH_SECONDS, and
 * when `options.kid` names a key the ring lacks (at most once per KEY_REFRESH_SECONDS), so verifying a token
 * costs no storage read in steady state and a newly published key is picked up without a redeploy.
 *
 * The cache holds the loaded ring, never an in-flight load: workerd does not let one request wait on I/O started
 * by another (the waiter can hang if the first request ends), so concurrent requests of a stale isolate each read.
 */
export async function getKeyRing(env: Env, options: { kid?: string; prefetched?: RawCopy } = {}): Promise<KeyRing> {
  const config = getConfig(env);
  const now = clock.now();
  let entry = rings.get(config);
  if (!entry) {
    entry = { ring: null, loadedAt: -Infinity, fromD1: false, unknownKidAt: -Infinity, error: null };
    rings.set(config, entry);
  }
  if (now - entry.loadedAt >= KEY_REFRESH_SECONDS * 1000) await reload(env, config, entry, now, options.prefetched);
  else if (!entry.ring) throw entry.error;
  const ring = entry.ring!;
  if (options.kid && !ring.verify.has(options.kid) && now - entry.unknownKidAt >= KEY_REFRESH_SECONDS * 1000) {
    entry.unknownKidAt = now;
    entry.fromD1 = true; // a key the KV copy may not have yet: ask D1
    await reload(env, config, entry, now);
  }
  return entry.ring!;
}

/**
 * Loads into `entry`. A failed load (storage unavailable, an undecryptable key) keeps the last ring and is retried
 * after RETRY_SECONDS, not per request. With no ring yet (a cold isolate) it fails (503): the bootstrap SIGNING_KEYS
 * may be long rotated out, and signing with it would mint tokens no one accepts (issue 16, docs/reliability.md).
 */
async function reload(env: Env, config: Config, entry: CachedRing, now: number, prefetched?: RawCopy): Promise<void> {
  try {
    const { ring, at } = await loadRing(env, config, entry.fromD1, prefetched);
    entry.ring = ring;
    entry.loadedAt = at;
    entry.fromD1 = false;
    entry.error = null;
  } catch (err) {
    entry.loadedAt = now - (KEY_REFRESH_SECONDS - RETRY_SECONDS) * 1000;
    console.error(JSON.stringify({ level: 'error', event: 'keyring_load_failed', message: String(err).slice(0, 200) }));
    if (!entry.ring) {
      entry.error = err;
      throw err;
    }
  }
}

const RETRY_SECONDS = 5;

/** Whether the next getKeyRing would read the KV copy (cold or due, not forced to D1): lets a caller prefetch it. */
export function keyRingWantsCopy(env: Env): boolean {
  const entry = rings.get(getConfig(env));
  return !entry || (!entry.fromD1 && clock.now() - entry.loadedAt >= KEY_REFRESH_SECONDS * 1000);
}

/** After a key change (rotation), and for tests: forget this isolate's ring; the next call reads D1, not KV. */
export function resetKeyRing(env: Env): void {
  rings.set(getConfig(env), { ring: null, loadedAt: -Infinity, fromD1: true, unknownKidAt: -Infinity, error: null });
}
