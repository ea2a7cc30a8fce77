/**
 * The signing key ring: the current key signs, every key in the ring verifies (by `kid`).
 * Built from the SIGNING_KEYS secret, imported once per isolate (jose only; no hand-rolled crypto).
 */
import { importJWK, type CryptoKey, type JWK } from 'jose';
import { getConfig, type Config, type SigningJwk } from '../config';

export interface RingKey {
  kid: string;
  alg: 'ES256' | 'EdDSA';
  key: CryptoKey;
}

export interface KeyRing {
  /** The key that signs new tokens. */
  signing: RingKey & { privateKey: CryptoKey };
  /** Public keys by kid: every key whose tokens may still be alive. */
  verify: Map<string, RingKey>;
  /** RFC 7517 JWK Set of the public keys, for /.well-known/jwks.json. */
  jwks: { keys: JWK[] };
}

/** The public half of a private JWK, with the members RFC 7517 §4 recommends. */
export function publicJwk(jwk: SigningJwk): JWK {
  const { d: _d, ...pub } = jwk;
  return { ...pub, use: 'sig' };
}

export async function buildKeyRing(privateJwks: SigningJwk[]): Promise<KeyRing> {
  const verify = new Map<string, RingKey>();
  const publics: JWK[] = [];
  for (const jwk of privateJwks) {
    if (verify.has(jwk.kid)) continue;
    const pub = publicJwk(jwk);
    verify.set(jwk.kid, { kid: jwk.kid, alg: jwk.alg, key: (await importJWK(pub, jwk.alg)) as CryptoKey });
    publics.push(pub);
  }
  const first = privateJwks[0];
  const privateKey = (await importJWK(first, first.alg)) as CryptoKey;
  return { signing: { ...verify.get(first.kid)!, privateKey }, verify, jwks: { keys: publics } };
}

const rings = new WeakMap<Config, Promise<KeyRing>>();

/** The key ring for this environment, imported once per isolate. */
export function getKeyRing(env: Env): Promise<KeyRing> {
  const config = getConfig(env);
  let ring = rings.get(config);
  if (!ring) {
    ring = buildKeyRing(config.signingKeys);
    ring.catch(() => rings.delete(config));
    rings.set(config, ring);
  }
  return ring;
}
