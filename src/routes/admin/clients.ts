/** Admin API: clients. Every change is audited and invalidates the KV client cache (storage/clients.ts). */

import { type Context, Hono } from 'hono';
import { OAuthError } from '../../lib/errors';
import {
  assertSameCredentialKind,
  clientMetadataView,
  registryFields,
  validateClientMetadata,
} from '../../oauth/client-metadata';
import { validateClientPolicy } from '../../oauth/client-policy';
import { fixedCredentials } from '../../oauth/fixed-credentials';
import { allowedResourcesOf } from '../../services/allowed-resources';
import { revokeClientTokens, setClientStatus } from '../../services/client-status';
import { createClient } from '../../services/create-client';
import { deleteClientIfPresent } from '../../services/delete-client';
import { rotateSecret } from '../../services/rotate-secret';
import { checkSectorIdentifier } from '../../services/sector-identifier';
import { updateClientAudited } from '../../services/update-client';
import { listClients } from '../../storage/admin-queries';
import { type Client, getClientFromDb, refreshPolicyOf } from '../../storage/clients';
import type { AppEnv } from '../../types';
import { intParam, readJsonObject } from './json-body';

export const adminClientRoutes = new Hono<AppEnv>();

/** The admin view: RFC 7591 metadata plus what only an operator sees. */
export function adminClientView(c: Client): Record<string, unknown> {
  return {
    ...clientMetadataView(c),
    status: c.status,
    confidential: c.confidential,
    require_pkce: c.requirePkce,
    refresh_token_policy: refreshPolicyOf(c),
    owner_user_id: c.ownerUserId,
    // Issue 13 (RFC 8707): null = every registered resource.
    allowed_resources: c.allowedResources ?? null,
    updated_at: c.updatedAt,
  };
}

async function mustGet(db: D1Database, id: string): Promise<Client> {
  const client = await getClientFromDb(db, id);
  if (!client) throw new OAuthError('invalid_request', `No client with id "${id.slice(0, 64)}".`, { status: 404 });
  return client;
}

adminClientRoutes.get('/', async (c) => {
  const limit = intParam(c.req.query('limit'), 'limit', 1, 500, 100);
  const offset = intParam(c.req.query('offset'), 'offset', 0, 1_000_000, 0);
  return c.json({ clients: await listClients(c.env.DB, limit, offset) });
});

adminClientRoutes.post('/', async (c) => {
  const body = await readJsonObject(c, { code: 'invalid_client_metadata' });
  const m = validateClientMetadata(body, { allowPassword: true });
  await checkSectorIdentifier(m); // issue 15: OpenID Connect Core §8.1
  // Optional operator-chosen credentials (src/oauth/fixed-credentials.ts); the secret is stored only as a hash.
  const fixed = fixedCredentials(body, m.confidential);
  // Issue 13: a private_key_jwt client has keys, no secret; a secret given for it would be silently dropped.
  if (m.authMethod === 'private_key_jwt' && fixed.secret)
    throw new OAuthError('invalid_client_metadata', 'A private_key_jwt client has no client_secret; send its keys.');
  // Issue 11: require_pkce and refresh_token_policy, which a confidential client only may relax.
  const policy = validateClientPolicy(body, { confidential: m.confidential, via: 'admin' });
  const allowedResources = await allowedResourcesOf(c.env.DB, c.get('config'), body);
  const taken = () =>
    new OAuthError('invalid_client_metadata', `A client with the id "${fixed.id}" already exists.`, { status: 409 });
  if (fixed.id && (await getClientFromDb(c.env.DB, fixed.id))) throw taken();
  const detail = {
    via: 'admin',
    grant_types: m.grantTypes,
    ...(fixed.id ? { fixed_id: true } : {}),
    ...(fixed.secret ? { fixed_secret: true } : {}),
    ...(allowedResources ? { allowed_resources: allowedResources } : {}),
  };
  const { client, secret } = await createClient(
    c.env,
    { ...registryFields(m), ...policy, confidential: m.confidential, allowedResources, ...fixed },
    { actor: 'admin', detail, requestId: c.get('requestId') },
  ).catch((err: unknown) => {
    // Two creations of one fixed id at the same moment: the primary key refuses the second.
    if (fixed.id && /UNIQUE constraint failed/.test(String((err as Error)?.message))) throw taken();
    throw err;
  });
  c.header('Cache-Control', 'no-store');
  return c.json(
    { ...adminClientView(client), ...(secret ? { client_secret: secret, client_secret_expires_at: 0 } : {}) },
    201,
  );
});

adminClientRoutes.get('/:id', async (c) => c.json(adminClientView(await mustGet(c.env.DB, c.req.param('id')))));

/** Partial update with RFC 7591 names; the merged result is validated as a whole, like a new registration. */
adminClientRoutes.patch('/:id', async (c) => {
  const current = await mustGet(c.env.DB, c.req.param('id'));
  const body = await readJsonObject(c, { code: 'invalid_client_metadata' });
  const { status, allowed_resources: _allowed, ...metadata } = body;
  if (status !== undefined && status !== 'active' && status !== 'disabled')
    throw new OAuthError('invalid_request', '"status" must be "active" or "disabled".');
  const merged = { ...clientMetadataView(current), ...metadata };
  const m = validateClientMetadata(merged, { allowPassword: true });
  await checkSectorIdentifier(m); // issue 15: OpenID Connect Core §8.1
  if (m.confidential !== current.confidential) {
    throw new OAuthError(
      'invalid_client_metadata',
      'token_endpoint_auth_method cannot switch between public and confidential; create a new client.',
    );
  }
  assertSameCredentialKind(m, current, 'create a new client');
  const policy = validateClientPolicy(body, { confidential: current.confidential, via: 'admin' });
  const allowedResources = await allowedResourcesOf(c.env.DB, c.get('config'), body);
  // Deny-list first: a failure between the two steps must never leave a disabled client's tokens alive.
  if (status === 'disabled' && current.status !== 'disabled') await revokeClientTokens(c.env, current.id);
  // One batch with its audit row; the client cache is dropped after it (src/services/update-client.ts).
  const updated = await updateClientAudited(
    c.env,
    current.id,
    {
      ...registryFields(m),
      ...policy,
      ...(allowedResources !== undefined ? { allowedResources } : {}),
      ...(status ? { status: status as 'active' | 'disabled' } : {}),
    },
    {
      actor: 'admin',
      detail: {
        fields: Object.keys(body),
        ...(allowedResources !== undefined ? { allowed_resources: allowedResources } : {}),
      },
      requestId: c.get('requestId'),
    },
  );
  if (!updated) throw new OAuthError('invalid_request', `No client with id "${current.id}".`, { status: 404 });
  return c.json(adminClientView(updated));
});

async function setStatus(c: Context<AppEnv>, status: 'active' | 'disabled') {
  const current = await mustGet(c.env.DB, c.req.param('id') ?? '');
  const updated = await setClientStatus(c.env, current.id, status, c.get('requestId'));
  if (!updated) throw new OAuthError('invalid_request', `No client with id "${current.id}".`, { status: 404 });
  return c.json(adminClientView(updated));
}

/** Disabling stops client authentication at once and revokes the client's outstanding access tokens. */
adminClientRoutes.post('/:id/disable', (c) => setStatus(c, 'disabled'));
adminClientRoutes.post('/:id/enable', (c) => setStatus(c, 'active'));

adminClientRoutes.post('/:id/rotate-secret', async (c) => {
  const current = await mustGet(c.env.DB, c.req.param('id'));
  if (!current.confidential) throw new OAuthError('invalid_request', 'This client is public and has no secret.');
  if (current.authMethod === 'private_key_jwt')
    throw new OAuthError('invalid_request', 'This client uses private_key_jwt and has no secret; change its keys.');
  const secret = await rotateSecret(c.env, current.id, { actor: 'admin', requestId: c.get('requestId') });
  if (!secret) throw new OAuthError('invalid_request', `No client with id "${current.id}".`, { status: 404 });
  c.header('Cache-Control', 'no-store');
  return c.json({ client_id: current.id, client_secret: secret, client_secret_expires_at: 0 });
});

/** Deletes the client and everything issued to it; its access tokens go on the deny-list (src/services/delete-client.ts). */
adminClientRoutes.delete('/:id', async (c) => {
  const id = c.req.param('id');
  if (!(await deleteClientIfPresent(c.env, id, { actor: 'admin', via: 'admin', requestId: c.get('requestId') })))
    throw new OAuthError('invalid_request', `No client with id "${id.slice(0, 64)}".`, { status: 404 });
  return c.body(null, 204);
});
