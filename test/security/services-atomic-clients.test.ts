/**
 * Issue 12: creating a client, rotating its secret and rotating the signing keys are each one D1 batch with their
 * audit row. A trigger makes the audit insert (the last statement) fail; nothing the operation wrote may remain.
 * And when the operation changes nothing (a public client has no secret), no audit row claims that it did.
 */
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { createClient } from '../../src/services/create-client';
import { rotateSigningKeys } from '../../src/services/key-rotation';
import { rotateSecret } from '../../src/services/rotate-secret';
import { resetKeyRing } from '../../src/tokens/keyring';
import { expectTokens, seedClient, tokenRequest } from '../helpers';
import { withFailingAudit } from '../ops-helpers';

const all = async (sql: string, ...args: unknown[]) =>
  (
    await env.DB.prepare(sql)
      .bind(...args)
      .all()
  ).results;

/** Every row these operations could touch. */
const state = async () => ({
  clients: await all('SELECT * FROM clients ORDER BY id'),
  registrations: await all('SELECT * FROM client_registrations ORDER BY client_id'),
  keys: await all('SELECT * FROM signing_keys ORDER BY kid'),
  audit: await all('SELECT * FROM audit_events ORDER BY id'),
});

const NEW_CLIENT = {
  name: 'Atomic app',
  grantTypes: ['client_credentials' as const],
  scopes: ['base' as const],
  redirectUris: [],
};

describe('client and key services are all or nothing (issue 12)', () => {
  it.each([
    ['createClient', () => createClient(env, NEW_CLIENT, { actor: 'admin', detail: { via: 'admin' } })],
    [
      'createClient with an RFC 7592 registration',
      () =>
        createClient(env, NEW_CLIENT, { actor: 'registration', detail: { via: 'rfc7591' } }, { registration: true }),
    ],
    ['rotateSigningKeys (stage)', () => rotateSigningKeys(env, { force: true })],
  ])('%s: a failing audit insert leaves everything as it was', async (_name, op) => {
    const before = await state();
    await withFailingAudit(op);
    expect(await state()).toEqual(before);
  });

  it('rotateSigningKeys (promote): a failing audit insert leaves the staged key staged and the signer unchanged', async () => {
    expect((await rotateSigningKeys(env, { force: true })).step).toBe('staged');
    const before = await state();
    await withFailingAudit(() => rotateSigningKeys(env, { force: true }));
    expect(await state()).toEqual(before);
    resetKeyRing(env);
  });

  it('rotateSecret: a failing audit insert keeps the old secret working', async () => {
    const client = await seedClient({ grantTypes: ['client_credentials'] });
    const before = await state();
    await withFailingAudit(() => rotateSecret(env, client.id, { actor: 'admin' }));
    expect(await state()).toEqual(before);
    await expectTokens(await tokenRequest({ grant_type: 'client_credentials', scope: 'base' }, { client }));
  });

  it('each writes exactly one audit row when it succeeds, and none when it changed nothing', async () => {
    const auditRows = async (event: string, subject: string) =>
      (await all('SELECT actor, subject FROM audit_events WHERE event = ?1 AND subject = ?2', event, subject)).length;
    const created = await createClient(
      env,
      NEW_CLIENT,
      { actor: 'registration', detail: { via: 'rfc7591' } },
      { registration: true },
    );
    expect(created.registrationToken).toMatch(/^rat_/);
    expect(await auditRows('client_created', created.client.id)).toBe(1);
    expect(
      await all('SELECT client_id FROM client_registrations WHERE client_id = ?1', created.client.id),
    ).toHaveLength(1);

    expect(await rotateSecret(env, created.client.id, { actor: 'admin' })).toEqual(expect.any(String));
    expect(await auditRows('client_secret_rotated', created.client.id)).toBe(1);
    const pub = await seedClient({ confidential: false, grantTypes: ['authorization_code'] });
    expect(await rotateSecret(env, pub.id, { actor: 'admin' })).toBeNull();
    expect(await auditRows('client_secret_rotated', pub.id)).toBe(0);
    expect(await rotateSecret(env, 'cl_missing', { actor: 'admin' })).toBeNull();
    expect(await auditRows('client_secret_rotated', 'cl_missing')).toBe(0);

    // An earlier test of this file may have left a staged key (storage persists within a file): promote it first.
    let staged = await rotateSigningKeys(env, { force: true });
    if (staged.step === 'promoted') staged = await rotateSigningKeys(env, { force: true });
    const promoted = await rotateSigningKeys(env, { force: true });
    resetKeyRing(env);
    if (staged.step !== 'staged' || promoted.step !== 'promoted') throw new Error('unexpected steps');
    expect(promoted.kid).toBe(staged.key.kid);
    expect(await auditRows('keys_rotated', staged.key.kid)).toBe(2); // staged, then promoted
  });
});
