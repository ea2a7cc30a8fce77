/** The in-isolate client cache: changes through the storage module are seen at once; others within its TTL. */
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { clock } from '../../src/lib/clock';
import { updateClientAudited } from '../../src/services/update-client';
import { createClient, getClient, invalidateClient } from '../../src/storage/clients';

const newClient = () =>
  createClient(env.DB, env.CACHE, { name: 'Cache test', grantTypes: ['client_credentials'], scopes: ['base'] });

describe('client cache', () => {
  it('an update through updateClientAudited is seen by the next read in this isolate', async () => {
    const { client } = await newClient();
    expect((await getClient(env.DB, env.CACHE, client.id))?.status).toBe('active');
    await updateClientAudited(env, client.id, { status: 'disabled' }, { actor: 'test', detail: {} });
    expect((await getClient(env.DB, env.CACHE, client.id))?.status).toBe('disabled');
  });

  it('an unknown id cached as missing is forgotten when the client is created', async () => {
    const id = `cl_cache_${crypto.randomUUID()}`;
    expect(await getClient(env.DB, env.CACHE, id)).toBeNull();
    await createClient(env.DB, env.CACHE, { id, name: 'Late', grantTypes: ['client_credentials'], scopes: ['base'] });
    expect((await getClient(env.DB, env.CACHE, id))?.id).toBe(id);
  });

  it('a change made behind its back (another isolate; KV already refreshed) is seen after at most 30 s', async () => {
    const { client } = await newClient();
    await getClient(env.DB, env.CACHE, client.id);
    // Another isolate disabled it: D1 and KV changed, this isolate's copy did not.
    await env.DB.prepare("UPDATE clients SET status = 'disabled' WHERE id = ?1").bind(client.id).run();
    await env.CACHE.delete(`client:${client.id}`);
    expect((await getClient(env.DB, env.CACHE, client.id))?.status).toBe('active');
    const realNow = clock.now;
    const start = realNow();
    clock.now = () => start + 31_000;
    expect((await getClient(env.DB, env.CACHE, client.id))?.status).toBe('disabled');
    clock.now = realNow;
    await invalidateClient(env.CACHE, client.id);
  });
});
