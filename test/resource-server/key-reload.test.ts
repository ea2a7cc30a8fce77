/**
 * The library picks up a signing key the product rotated to, by reloading the JWKS once on an unknown `kid`
 * (jose createRemoteJWKSet), and does not reload again inside the cooldown: a flood of forged kids cannot turn
 * into a flood of JWKS fetches. Uses the product's real rotation (admin API), not a second key set.
 */
import { env } from 'cloudflare:workers';
import { beforeEach, describe, expect, it } from 'vitest';
import { clock } from '../../src/lib/clock';
import { PUBLISH_DELAY_SECONDS } from '../../src/services/key-rotation';
import { resetKeyRing } from '../../src/tokens/keyring';
import { admin, claimsOf, freezeClock, json } from '../ops-helpers';
import { METADATA_URL, productToken, productVerifier } from './rs-helpers';

beforeEach(() => resetKeyRing(env));

describe('JWKS reload on a kid miss', () => {
  it('accepts a token signed by a newly promoted key after one reload; a verifier in its cooldown refuses it', async () => {
    const advance = freezeClock();
    const now = () => clock.now(); // the product's frozen clock issues the tokens
    const fresh = productVerifier({ now, jwksCooldown: 0 });
    const cooling = productVerifier({ now }); // default 30 s cooldown
    const bootToken = await productToken();
    expect((await fresh.verifier.verify(bootToken)).ok).toBe(true);
    expect((await cooling.verifier.verify(bootToken)).ok).toBe(true);
    expect(fresh.paths).toEqual(['/.well-known/oauth-authorization-server', '/.well-known/jwks.json']);

    // The product rotates: stage (published in its JWKS), wait out the publication delay, promote.
    const staged = await json<{ kid: string }>(await admin('POST', '/keys/rotate'), 200);
    advance(PUBLISH_DELAY_SECONDS);
    await json(await admin('POST', '/keys/rotate'), 200);
    const newToken = await productToken();
    expect(claimsOf(newToken).kid).toBe(staged.kid);

    // Both verifiers fetched the JWKS before the new key existed; their cached sets lack its kid.
    const result = await fresh.verifier.verify(newToken);
    expect(result.ok).toBe(true);
    expect(fresh.paths).toEqual([
      '/.well-known/oauth-authorization-server',
      '/.well-known/jwks.json',
      '/.well-known/jwks.json',
    ]);
    // Old tokens keep verifying from the reloaded set (the old key is still published as "previous").
    expect((await fresh.verifier.verify(bootToken)).ok).toBe(true);
    expect(fresh.paths).toHaveLength(3);

    expect(await cooling.verifier.verify(newToken)).toEqual({
      ok: false,
      error: 'invalid_token',
      status: 401,
      description: 'The access token was not signed by a key of this server.',
      missing: false,
      challenge: `Bearer error="invalid_token", error_description="The access token was not signed by a key of this server.", resource_metadata="${METADATA_URL}"`,
      reason: 'ERR_JWKS_NO_MATCHING_KEY',
    });
    expect(cooling.paths).toHaveLength(2); // no reload inside the cooldown
  });
});
