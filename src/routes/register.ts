/**
 * Dynamic client registration, RFC 7591 (POST /oauth2/register, with an initial access token issued by an
 * administrator, §3) and client configuration, RFC 7592 (GET/PUT/DELETE /oauth2/register/:client_id, with the
 * registration access token returned at registration). Same metadata rules as the admin API and the portal.
 */

import { type Context, Hono } from 'hono';
import { bearerError, OAuthError } from '../lib/errors';
import { bearerFromHeader } from '../middleware/bearer';
import {
  assertSameCredentialKind,
  clientMetadataView,
  registryFields,
  validateClientMetadata,
} from '../oauth/client-metadata';
import { validateClientPolicy } from '../oauth/client-policy';
import { assertOpenRegistration, openDefaultAuthMethod } from '../oauth/registration-policy';
import { createClient, createClientSpending } from '../services/create-client';
import { deleteClient } from '../services/delete-client';
import { checkSectorIdentifier } from '../services/sector-identifier';
import { updateClientAudited } from '../services/update-client';
import { checkRegistrationToken } from '../storage/client-registrations';
import { type Client, dropStaleCopy, getClientFromDb } from '../storage/clients';
import { spendInitialAccessTokenStatement } from '../storage/initial-access-tokens';
import type { AppEnv } from '../types';
import { readJsonObject } from './admin/json-body';

export const registerRoutes = new Hono<AppEnv>();

const DEFAULT_NAME = 'Registered client';

function bearerOrChallenge(c: Context<AppEnv>, what: string): string {
  const token = bearerFromHeader(c.req.header('Authorization'));
  if (!token) throw bearerError(null, `${what} is required as "Authorization: Bearer …".`, { realm: 'register' });
  return token;
}

function registrationUri(c: Context<AppEnv>, id: string): string {
  return `${c.get('config').issuer}/oauth2/register/${encodeURIComponent(id)}`;
}

/**
 * Issue 11: nothing of a registration request comes from the URL (RFC 7591 §3.1 sends the metadata as a JSON
 * body; RFC 7592 §2 names the client in the path), where logs and Referer headers would keep it.
 */
registerRoutes.use('*', async function noQueryParameters(c, next) {
  if (c.req.url.includes('?')) {
    const name = [...new URL(c.req.url).searchParams.keys()][0];
    if (name !== undefined) {
      const what = name.slice(0, 40);
      throw new OAuthError('invalid_request', `Do not put "${what}" in the URL; send it in the JSON request body.`);
    }
  }
  await next();
});

registerRoutes.post('/', async (c) => {
  // Issue 13: under an open REGISTRATION_POLICY a request without an Authorization header registers openly; one that
  // sends a token is judged as an initial access token, as always (a wrong token is never silently ignored).
  const policy = c.get('config').registrationPolicy;
  const openly = policy !== 'initial-token' && !c.req.header('Authorization');
  const iat = openly ? null : bearerOrChallenge(c, 'An initial access token from the administrator');
  // Validate before spending: a refused registration must not use up a max_uses token (RFC 7591 §3.2.2 errors).
  const body = await readJsonObject(c, { code: 'invalid_client_metadata' });
  const m = validateClientMetadata(body, {
    defaultName: DEFAULT_NAME,
    ...(openly ? { defaultAuthMethod: openDefaultAuthMethod(policy) } : {}),
  });
  await checkSectorIdentifier(m); // issue 15: OpenID Connect Core §8.1
  // Issue 11: refresh_token_policy "reuse" and require_pkce false are for an administrator to grant, not self-service.
  validateClientPolicy(body, { confidential: m.confidential, via: 'registration' });
  if (policy !== 'initial-token' && openly) assertOpenRegistration(policy, m);
  const input = { ...registryFields(m), confidential: m.confidential };
  const audit = {
    actor: 'registration',
    detail: { via: openly ? 'rfc7591-open' : 'rfc7591', grant_types: m.grantTypes },
    requestId: c.get('requestId'),
  };
  // Issue 16: the token's use is spent in the client's own batch, so our failure never uses up a single-use token.
  const spend = iat === null ? null : await spendInitialAccessTokenStatement(c.env.DB, iat);
  const created =
    iat === null
      ? await createClient(c.env, input, audit, { registration: true, openly })
      : spend && (await createClientSpending(c.env, input, audit, spend));
  if (!created) {
    throw bearerError('invalid_token', 'The initial access token is unknown, expired or used up.', {
      realm: 'register',
    });
  }
  const { client, secret, registrationToken } = created;
  c.header('Cache-Control', 'no-store');
  c.header('Pragma', 'no-cache');
  return c.json(
    {
      ...clientMetadataView(client),
      token_endpoint_auth_method: m.authMethod,
      ...(secret ? { client_secret: secret, client_secret_expires_at: 0 } : {}),
      registration_access_token: registrationToken,
      registration_client_uri: registrationUri(c, client.id),
    },
    201,
  );
});

/** RFC 7592 §2: an unknown client and a wrong token get the same 401, so client ids cannot be probed. */
async function authorizedClient(c: Context<AppEnv>): Promise<Client> {
  const token = bearerOrChallenge(c, 'The registration access token');
  const id = c.req.param('id') ?? '';
  const client = (await checkRegistrationToken(c.env.DB, id, token)) ? await getClientFromDb(c.env.DB, id) : null;
  if (!client)
    throw bearerError('invalid_token', 'The registration access token is not valid for this client.', {
      realm: 'register',
    });
  return client;
}

registerRoutes.get('/:id', async (c) => {
  const client = await authorizedClient(c);
  c.header('Cache-Control', 'no-store');
  return c.json({ ...clientMetadataView(client), registration_client_uri: registrationUri(c, client.id) });
});

/** RFC 7592 §2.2: the body replaces the metadata; omitted fields take their defaults. */
registerRoutes.put('/:id', async (c) => {
  const client = await authorizedClient(c);
  const body = await readJsonObject(c, { code: 'invalid_client_metadata' });
  if (body.client_id !== client.id)
    throw new OAuthError('invalid_request', 'The body must repeat this client\'s "client_id".');
  if ('client_secret' in body)
    throw new OAuthError(
      'invalid_client_metadata',
      'The client secret cannot be set or checked here; ask the administrator to rotate it.',
    );
  const {
    client_id: _id,
    client_id_issued_at: _at,
    client_secret_expires_at: _exp,
    registration_access_token: _rat,
    registration_client_uri: _uri,
    ...metadata
  } = body;
  const m = validateClientMetadata(metadata, { defaultName: DEFAULT_NAME });
  await checkSectorIdentifier(m); // issue 15: OpenID Connect Core §8.1
  validateClientPolicy(metadata, { confidential: m.confidential, via: 'registration' });
  if (m.confidential !== client.confidential) {
    throw new OAuthError(
      'invalid_client_metadata',
      'token_endpoint_auth_method cannot switch between public and confidential; register a new client.',
    );
  }
  // Issue 13: a client registered without an initial access token keeps those limits through RFC 7592 (its public or
  // confidential kind cannot change, above; its grants stay authorization_code and refresh_token).
  if (client.registeredOpenly) assertOpenRegistration('open', m);
  assertSameCredentialKind(m, client, 'register a new client');
  // Issue 16: the change and its audit row in one batch (src/services/update-client.ts); audit() after the update
  // only logged a failure, leaving an unaudited change.
  const updated = await updateClientAudited(c.env, client.id, registryFields(m), {
    actor: 'registration',
    detail: { via: 'rfc7592' },
    requestId: c.get('requestId'),
  });
  c.header('Cache-Control', 'no-store');
  return c.json({
    ...clientMetadataView(updated!),
    token_endpoint_auth_method: m.authMethod,
    registration_client_uri: registrationUri(c, client.id),
  });
});

/** RFC 7592 §2.3: deletes the client and everything issued to it (src/services/delete-client.ts). */
registerRoutes.delete('/:id', async (c) => {
  const client = await authorizedClient(c).catch(async (err: unknown) => {
    // Issue 16: the retry of a delete whose cache clear failed (503) is refused, its registration token gone with the
    // client; drop the stale KV copy then, or it would authenticate the deleted client for up to 5 minutes.
    if (err instanceof OAuthError) await dropStaleCopy(c.env.DB, c.env.CACHE, c.req.param('id') ?? '');
    throw err;
  });
  await deleteClient(c.env, client.id, { actor: 'registration', via: 'rfc7592', requestId: c.get('requestId') });
  return c.body(null, 204);
});
