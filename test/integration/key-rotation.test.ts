import { env } from 'cloudflare:workers';
import { importJWK, type JWK } from 'jose';
import { beforeEach, describe, expect, it } from 'vitest';
import { getConfig } from '../../src/config';
import { nowSeconds } from '../../src/lib/clock';
import { openJson } from '../../src/lib/key-encryption';
import { PUBLISH_DELAY_SECONDS } from '../../src/services/key-rotation';
import { addNextKey, promoteNextKey } from '../../src/storage/signing-keys';
import { issueAccessToken } from '../../src/tokens/access-token';
import { KEY_REFRESH_SECONDS, resetKeyRing } from '../../src/tokens/keyring';
import { call, expectTokens, seedClient, tokenRequest } from '../helpers';
import { admin, claimsOf, freezeClock, json, me } from '../ops-helpers';

/** The kids of the JWKS's access-token keys (ES256/EdDSA), or with `rsa` of its RS256 ID-token keys (issue 15). */
async function jwksKids(rsa = false): Promise<string[]> {
  const res = await call('/.well-known/jwks.json');
  expect(res.headers.get('Cache-Control')).toBe('public, max-age=300');
  const keys = ((await res.json()) as { keys: { kid: string; kty: string; d?: string }[] }).keys;
  return keys
    .filter((k) => (k.kty === 'RSA') === rsa)
    .map((k) => {
      expect(k.d).toBeUndefined();
      return k.kid;
    });
}

beforeEach(() => resetKeyRing(env));

describe('signing-key rotation (no redeploy, no downtime)', () => {
  it('publishes before signing, switches signers, keeps old tokens valid until expiry, then retires the old key', async () => {
    const advance = freezeClock();
    const client = await seedClient();
    const issue = async () =>
      (await expectTokens(await tokenRequest({ grant_type: 'client_credentials' }, { client }))).access_token;

    const bootToken = await issue();
    expect(claimsOf(bootToken).kid).toBe('test-es256-a'); // bootstrap ring: the SIGNING_KEYS secret
    expect(await jwksKids()).toEqual(['test-es256-a', 'test-es256-b']);
    expect(await jwksKids(true)).toEqual(['test-rs256-a']);

    // Step 1: stage. The new key is in the JWKS, but the bootstrap key still signs.
    const staged = await json<{ step: string; kid: string; promote_after: number }>(
      await admin('POST', '/keys/rotate'),
      200,
    );
    expect(staged.step).toBe('staged');
    expect(await jwksKids()).toContain(staged.kid);
    expect(claimsOf(await issue()).kid).toBe('test-es256-a');
    // The private key is encrypted at rest with KEY_ENCRYPTION_KEY (AES-GCM, aad = kid).
    const row = (await env.DB.prepare('SELECT private_jwk_enc, public_jwk FROM signing_keys WHERE kid = ?1')
      .bind(staged.kid)
      .first<{ private_jwk_enc: string; public_jwk: string }>())!;
    expect(row.private_jwk_enc).not.toContain('"d"');
    expect(row.public_jwk).not.toContain('"d"');
    const opened = await openJson<{ d: string; kid: string }>(
      getConfig(env).keyEncryptionKey,
      staged.kid,
      row.private_jwk_enc,
    );
    expect(opened.kid).toBe(staged.kid);
    await expect(openJson(getConfig(env).keyEncryptionKey, 'another-kid', row.private_jwk_enc)).rejects.toThrow();

    // Step 2 too early: refused with a clear 409.
    const early = await admin('POST', '/keys/rotate');
    expect(early.status).toBe(409);
    expect(((await early.json()) as { error_description: string }).error_description).toContain(staged.kid);

    // Step 2 after the publication delay: the new key signs.
    advance(PUBLISH_DELAY_SECONDS);
    const promoted = await json<{ step: string; kid: string; previous_verify_until: number }>(
      await admin('POST', '/keys/rotate'),
      200,
    );
    expect(promoted).toMatchObject({ step: 'promoted', kid: staged.kid });
    const newToken = await issue();
    expect(claimsOf(newToken).kid).toBe(staged.kid);
    expect((await me(newToken)).status).toBe(200);
    // Tokens signed by the old (bootstrap) key keep working until they expire.
    expect((await me(bootToken)).status).toBe(200);
    expect(await jwksKids()).toEqual([staged.kid, 'test-es256-a', 'test-es256-b']);

    const keys = await json<{ signing_kid: string; source: string; keys: { kid: string; state: string }[] }>(
      await admin('GET', '/keys'),
      200,
    );
    expect(keys.signing_kid).toBe(staged.kid);
    expect(keys.source).toBe('d1');
    expect(keys.keys.find((k) => k.kid === 'test-es256-a')?.state).toBe('previous');

    // Past the old key's last token lifetime: it leaves the ring and the JWKS (then the cron retires it).
    // Just before: the old key still verifies (its last tokens may live until then).
    advance(promoted.previous_verify_until - nowSeconds() - 1);
    expect(await jwksKids()).toContain('test-es256-a');
    advance(KEY_REFRESH_SECONDS + 1); // the ring refreshes by itself: no reset, no redeploy
    expect(await jwksKids()).toEqual([staged.kid]);
    expect((await me(bootToken)).status).toBe(401);
    // Issue 15: the RS256 ID-token key was staged and promoted with it; the bootstrap RS256 key is gone too.
    const rsaKids = await jwksKids(true);
    expect(rsaKids).toHaveLength(1);
    expect(rsaKids[0]).not.toBe('test-rs256-a');
  });

  it('a second rotation moves the D1 current key to previous, and other isolates pick the new key up by kid', async () => {
    const advance = freezeClock();
    const client = await seedClient();
    const issue = async () =>
      (await expectTokens(await tokenRequest({ grant_type: 'client_credentials' }, { client }))).access_token;
    const first = await json<{ kid: string }>(await admin('POST', '/keys/rotate'), 200);
    await json(await admin('POST', '/keys/rotate', { force: true }), 200);
    const t1 = await issue();
    expect(claimsOf(t1).kid).toBe(first.kid);

    // Another isolate stages and promotes (simulated by writing to D1 and not resetting this isolate's ring).
    advance(KEY_REFRESH_SECONDS); // this isolate's ring is due a refresh anyway; reload it now
    await issue();
    const second = await json<{ kid: string }>(await admin('POST', '/keys/rotate'), 200);
    advance(PUBLISH_DELAY_SECONDS);
    await json(await admin('POST', '/keys/rotate'), 200);
    const t2 = await issue();
    expect(claimsOf(t2).kid).toBe(second.kid);
    expect((await me(t1)).status).toBe(200); // old D1 key still verifies
    const states = await json<{ keys: { kid: string; state: string }[] }>(await admin('GET', '/keys'), 200);
    expect(states.keys.find((k) => k.kid === first.kid)?.state).toBe('previous');
    expect(states.keys.find((k) => k.kid === second.kid)?.state).toBe('current');
  });

  it('picks up a key promoted by another isolate on its unknown kid, at most once per refresh interval', async () => {
    const advance = freezeClock();
    const client = await seedClient();
    await expectTokens(await tokenRequest({ grant_type: 'client_credentials' }, { client })); // this isolate's ring is loaded
    const config = getConfig(env);
    // "Another isolate" stages and promotes a key: D1 changes, this isolate's ring is not told.
    const promoteElsewhere = async () => {
      const key = (await addNextKey(env.DB, config.keyEncryptionKey))!;
      await promoteNextKey(env.DB, { publishedBefore: nowSeconds(), verifyUntil: nowSeconds() + 7200, bootstrap: [] });
      const row = (await env.DB.prepare('SELECT private_jwk_enc FROM signing_keys WHERE kid = ?1')
        .bind(key.kid)
        .first<{ private_jwk_enc: string }>())!;
      const jwk = await openJson<JWK>(config.keyEncryptionKey, key.kid, row.private_jwk_enc);
      const ring = {
        signing: {
          kid: key.kid,
          alg: 'ES256' as const,
          key: null as never,
          privateKey: (await importJWK(jwk, 'ES256')) as CryptoKey,
        },
        idTokenSigners: new Map(),
        verify: new Map(),
        jwks: { keys: [] },
      };
      return (await issueAccessToken(config, ring, { sub: client.id, clientId: client.id, scope: 'base' })).token;
    };
    const t1 = await promoteElsewhere();
    expect((await me(t1)).status).toBe(200); // unknown kid → one reload → found
    advance(5);
    const t2 = await promoteElsewhere();
    expect((await me(t2)).status).toBe(401); // a second unknown kid within the interval: no storage read
    advance(KEY_REFRESH_SECONDS);
    expect((await me(t2)).status).toBe(200); // picked up at the next refresh
  });

  it('a key that cannot be decrypted answers server_error, and is retried after a few seconds, not on every request', async () => {
    const advance = freezeClock();
    const client = await seedClient();
    const staged = await json<{ kid: string }>(await admin('POST', '/keys/rotate'), 200);
    await json(await admin('POST', '/keys/rotate', { force: true }), 200);
    const row = (await env.DB.prepare('SELECT private_jwk_enc FROM signing_keys WHERE kid = ?1')
      .bind(staged.kid)
      .first<{ private_jwk_enc: string }>())!;
    await env.DB.prepare("UPDATE signing_keys SET private_jwk_enc = 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' WHERE kid = ?1")
      .bind(staged.kid)
      .run();
    resetKeyRing(env);
    const broken = await tokenRequest({ grant_type: 'client_credentials' }, { client });
    expect(broken.status).toBe(500);
    expect(((await broken.json()) as { error: string }).error).toBe('server_error');
    await env.DB.prepare('UPDATE signing_keys SET private_jwk_enc = ?2 WHERE kid = ?1')
      .bind(staged.kid, row.private_jwk_enc)
      .run();
    advance(4);
    expect((await tokenRequest({ grant_type: 'client_credentials' }, { client })).status).toBe(500); // no reload yet
    advance(2);
    const fixed = await expectTokens(await tokenRequest({ grant_type: 'client_credentials' }, { client }));
    expect(claimsOf(fixed.access_token).kid).toBe(staged.kid);
  });
});
