/** Admin API: resource servers (RFC 8707, issue 13). `:uri` is the URI, percent-encoded; docs/resource-servers.md. */
import { Hono } from 'hono';
import { OAuthError } from '../../lib/errors';
import { parseNewResourceServer, parseResourceServerChanges } from '../../oauth/resource-server-body';
import { canonicalResourceUri } from '../../oauth/resource-uri';
import { createResourceServer, deleteResourceServer, updateResourceServer } from '../../services/resource-servers';
import { getResourceServer, listResourceServers, type StoredResourceServer } from '../../storage/resource-servers';
import type { AppEnv } from '../../types';
import { readJsonObject } from './json-body';

export const adminResourceRoutes = new Hono<AppEnv>();

function view(rs: StoredResourceServer): Record<string, unknown> {
  return {
    resource: rs.uri,
    name: rs.name,
    scopes: rs.scopes,
    builtin: rs.builtin,
    created_at: rs.createdAt,
    updated_at: rs.updatedAt,
  };
}

function uriParam(raw: string): string {
  const r = canonicalResourceUri(decodeURIComponent(raw));
  if (!r.ok) throw new OAuthError('invalid_request', `The resource ${r.reason}.`, { status: 404 });
  return r.uri;
}

const notFound = () => new OAuthError('invalid_request', 'No such resource server.', { status: 404 });

adminResourceRoutes.get('/', async (c) => {
  const all = await listResourceServers(c.env.DB, c.get('config'));
  return c.json({ resource_servers: all.map(view) });
});

adminResourceRoutes.post('/', async (c) => {
  const rs = parseNewResourceServer(await readJsonObject(c));
  const config = c.get('config');
  const created = await createResourceServer(c.env.DB, config, rs, c.get('requestId'));
  if (!created)
    throw new OAuthError('invalid_request', `The resource server "${rs.uri}" is already registered.`, { status: 409 });
  return c.json(view(created), 201);
});

adminResourceRoutes.get('/:uri', async (c) => {
  const rs = await getResourceServer(c.env.DB, c.get('config'), uriParam(c.req.param('uri')));
  if (!rs) throw notFound();
  return c.json(view(rs));
});

adminResourceRoutes.patch('/:uri', async (c) => {
  const uri = uriParam(c.req.param('uri'));
  const changes = parseResourceServerChanges(await readJsonObject(c));
  const config = c.get('config');
  if (!(await updateResourceServer(c.env.DB, config, uri, changes, c.get('requestId')))) throw notFound();
  return c.json(view((await getResourceServer(c.env.DB, config, uri))!));
});

adminResourceRoutes.delete('/:uri', async (c) => {
  const uri = uriParam(c.req.param('uri'));
  if (!(await deleteResourceServer(c.env.DB, c.get('config'), uri, c.get('requestId')))) throw notFound();
  return c.body(null, 204);
});
