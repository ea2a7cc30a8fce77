/**
 * The in-isolate cache of verified access tokens (src/tokens/verify-access-token.ts) must only skip the signature
 * check: every time check still runs on a cached token, a cached result never outlives its key, and a copy is
 * returned so one request cannot change what the next one sees.
 */
import { exportJWK, generateKeyPair } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import type { Config, SigningJwk } from '../../src/config';
import { clock } from '../../src/lib/clock';
import { issueAccessToken } from '../../src/tokens/access-token';
import { buildKeyRing } from '../../src/tokens/keyring';
import { verifyAccessTokenSkippingDenyList } from '../../src/tokens/verify-access-token';

const realNow = clock.now;
afterEach(() => {
  clock.now = realNow;
});

async function jwk(kid: string): Promise<SigningJwk> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  return { ...(await exportJWK(privateKey)), kid, alg: 'ES256' } as SigningJwk;
}

const config = { issuer: 'https://as.example', audience: 'https://api.example', accessTokenTtl: 600 } as Config;

describe('verified-token cache', () => {
  it('still refuses a cached token once it has expired', async () => {
    const ring = await buildKeyRing([await jwk('k1')]);
    const { token } = await issueAccessToken(config, ring, { sub: 's', clientId: 'c', scope: 'base' });
    expect((await verifyAccessTokenSkippingDenyList(config, ring, token)).sub).toBe('s'); // verified, now cached
    expect((await verifyAccessTokenSkippingDenyList(config, ring, token)).sub).toBe('s'); // served from the cache
    const t0 = Date.now();
    clock.now = () => t0 + (600 + 31) * 1000; // past exp plus the 30 s tolerance
    await expect(verifyAccessTokenSkippingDenyList(config, ring, token)).rejects.toMatchObject({
      code: 'invalid_token',
      status: 401,
      description: 'The access token has expired.',
    });
  });

  it('still refuses a cached token whose iat is in the future for the clock', async () => {
    const ring = await buildKeyRing([await jwk('k2')]);
    const { token } = await issueAccessToken(config, ring, { sub: 's', clientId: 'c', scope: 'base' });
    await verifyAccessTokenSkippingDenyList(config, ring, token);
    const t0 = Date.now();
    clock.now = () => t0 - 120 * 1000; // the verifier's clock is two minutes behind the issuer's
    await expect(verifyAccessTokenSkippingDenyList(config, ring, token)).rejects.toMatchObject({
      code: 'invalid_token',
      status: 401,
    });
  });

  it('does not carry a verification over to a ring without that key', async () => {
    const key = await jwk('shared-kid');
    const ring = await buildKeyRing([key]);
    const { token } = await issueAccessToken(config, ring, { sub: 's', clientId: 'c', scope: 'base' });
    await verifyAccessTokenSkippingDenyList(config, ring, token);
    // A reloaded ring where the kid now names another key (e.g. the old one was retired and the kid reused).
    const reloaded = await buildKeyRing([await jwk('shared-kid')]);
    await expect(verifyAccessTokenSkippingDenyList(config, reloaded, token)).rejects.toMatchObject({
      code: 'invalid_token',
      status: 401,
    });
  });

  it('returns a fresh copy of the claims on every call', async () => {
    const ring = await buildKeyRing([await jwk('k3')]);
    const { token } = await issueAccessToken(config, ring, { sub: 's', clientId: 'c', scope: 'base' });
    const first = await verifyAccessTokenSkippingDenyList(config, ring, token);
    first.scope = 'base files upload_files';
    expect((await verifyAccessTokenSkippingDenyList(config, ring, token)).scope).toBe('base');
  });
});
