import { exportJWK, generateKeyPair } from 'jose';
import { describe, expect, it } from 'vitest';
import type { Config, SigningJwk } from '../../src/config';
import { issueAccessToken } from '../../src/tokens/access-token';
import { buildKeyRing } from '../../src/tokens/keyring';
import { verifyAccessTokenSkippingDenyList } from '../../src/tokens/verify-access-token';

async function jwk(alg: 'ES256' | 'EdDSA', kid: string): Promise<SigningJwk> {
  const { privateKey } = await generateKeyPair(alg, {
    extractable: true,
    crv: alg === 'EdDSA' ? 'Ed25519' : undefined,
  });
  return { ...(await exportJWK(privateKey)), kid, alg } as SigningJwk;
}

const config = { issuer: 'https://as.example', audience: 'https://api.example', accessTokenTtl: 600 } as Config;

describe('key ring', () => {
  it('signs with the first key and verifies tokens of every key (ES256 and EdDSA)', async () => {
    const ed = await jwk('EdDSA', 'ed-1');
    const es = await jwk('ES256', 'es-1');
    const edRing = await buildKeyRing([ed, es]);
    const esRing = await buildKeyRing([es, ed]);
    expect(edRing.jwks.keys.map((k) => [k.kid, k.alg])).toEqual([
      ['ed-1', 'EdDSA'],
      ['es-1', 'ES256'],
    ]);
    const fromEd = await issueAccessToken(config, edRing, { sub: 's', clientId: 'c', scope: 'base' });
    const fromEs = await issueAccessToken(config, esRing, { sub: 's', clientId: 'c', scope: 'files' });
    // Either ring verifies both tokens: the old key keeps verifying after a rotation.
    expect((await verifyAccessTokenSkippingDenyList(config, esRing, fromEd.token)).scope).toBe('base');
    expect((await verifyAccessTokenSkippingDenyList(config, edRing, fromEs.token)).scope).toBe('files');
  });

  it('never publishes the private part', async () => {
    const ring = await buildKeyRing([await jwk('ES256', 'a')]);
    expect(ring.jwks.keys[0]).not.toHaveProperty('d');
    expect(ring.jwks.keys[0]).toMatchObject({ kid: 'a', use: 'sig', alg: 'ES256' });
  });

  it('refuses a token whose kid is not in the ring', async () => {
    const signer = await buildKeyRing([await jwk('ES256', 'gone')]);
    const verifier = await buildKeyRing([await jwk('ES256', 'other')]);
    const { token } = await issueAccessToken(config, signer, { sub: 's', clientId: 'c', scope: 'base' });
    await expect(verifyAccessTokenSkippingDenyList(config, verifier, token)).rejects.toMatchObject({
      code: 'invalid_token',
      status: 401,
    });
  });
});
