/** Admin API for resource servers (issue 13): each change one batch with its audit row; the built-in /v1 is fixed. */
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { call, errorOf } from '../helpers';

const ADMIN = { Authorization: `Bearer ${env.ADMIN_TOKEN}`, 'Content-Type': 'application/json' };
const admin = (method: string, path: string, body?: unknown) =>
  call(`/admin/resources${path}`, {
    method,
    headers: ADMIN,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
const auditCount = async (event: string, subject: string) =>
  (await env.DB.prepare('SELECT COUNT(*) AS n FROM audit_events WHERE event = ?1 AND subject = ?2')
    .bind(event, subject)
    .first<{ n: number }>())!.n;

describe('/admin/resources', () => {
  it('create (canonical URI), get, list, update, delete, each audited once', async () => {
    const uri = 'https://crud.example.com/mcp';
    const created = await admin('POST', '', {
      resource: 'HTTPS://crud.example.com:443/mcp/',
      name: 'CRUD',
      scopes: ['x'],
    });
    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({ resource: uri, name: 'CRUD', scopes: ['x'], builtin: false });
    expect(await auditCount('resource_server_created', uri)).toBe(1);
    const again = await admin('POST', '', { resource: uri, name: 'CRUD' });
    expect(again.status).toBe(409);
    expect(await auditCount('resource_server_created', uri)).toBe(1);

    expect(await (await admin('GET', `/${encodeURIComponent(uri)}`)).json()).toMatchObject({ resource: uri });
    const list = (await (await admin('GET', '')).json()) as {
      resource_servers: { resource: string; builtin: boolean }[];
    };
    expect(list.resource_servers[0]).toMatchObject({ resource: env.ACCESS_TOKEN_AUDIENCE, builtin: true });
    expect(list.resource_servers.map((r) => r.resource)).toContain(uri);

    const up = await admin('PATCH', `/${encodeURIComponent(uri)}`, { scopes: ['y', 'z'] });
    expect(await up.json()).toMatchObject({ name: 'CRUD', scopes: ['y', 'z'] });
    expect(await auditCount('resource_server_updated', uri)).toBe(1);

    expect((await admin('DELETE', `/${encodeURIComponent(uri)}`)).status).toBe(204);
    expect(await auditCount('resource_server_deleted', uri)).toBe(1);
    expect((await admin('DELETE', `/${encodeURIComponent(uri)}`)).status).toBe(404);
    expect(await auditCount('resource_server_deleted', uri)).toBe(1);
  });

  it('refuses a bad URI, offline_access, and changing the built-in /v1', async () => {
    for (const resource of ['https://x.example/#f', '/rel', 'http://x.example']) {
      const res = await admin('POST', '', { resource, name: 'Bad' });
      expect(res.status).toBe(400);
      expect((await errorOf(res)).error).toBe('invalid_request');
    }
    const offline = await admin('POST', '', { resource: 'https://o.example', name: 'O', scopes: ['offline_access'] });
    expect(offline.status).toBe(400);
    const builtin = await admin('POST', '', { resource: env.ACCESS_TOKEN_AUDIENCE, name: 'Mine' });
    expect(builtin.status).toBe(409);
    expect((await admin('DELETE', `/${encodeURIComponent(env.ACCESS_TOKEN_AUDIENCE)}`)).status).toBe(409);
  });
});
