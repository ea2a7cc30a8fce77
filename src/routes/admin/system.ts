/** Admin API: signing keys, initial access tokens for registration, the audit trail. */
import { Hono } from 'hono';
import { OAuthError } from '../../lib/errors';
import { InitialAccessTokenBody, RotateKeysBody } from '../../oauth/admin-bodies';
import { parseBody } from '../../oauth/body-schema';
import { issueInitialAccessTokenAudited } from '../../services/initial-access-tokens';
import { PUBLISH_DELAY_SECONDS, rotateSigningKeys } from '../../services/key-rotation';
import { listAuditEvents } from '../../storage/admin-queries';
import { listSigningKeys } from '../../storage/signing-keys';
import { getKeyRing } from '../../tokens/keyring';
import type { AppEnv } from '../../types';
import { intParam, readJsonObject } from './json-body';

export const adminSystemRoutes = new Hono<AppEnv>();

adminSystemRoutes.get('/keys', async (c) => {
  const ring = await getKeyRing(c.env);
  const stored = await listSigningKeys(c.env.DB);
  return c.json({
    signing_kid: ring.signing.kid,
    source: stored.some((k) => k.state === 'current') ? 'd1' : 'SIGNING_KEYS secret (bootstrap)',
    published_kids: ring.jwks.keys.map((k) => k.kid),
    publish_delay_seconds: PUBLISH_DELAY_SECONDS,
    keys: stored,
  });
});

/** One rotation step: stage a new key, or promote the staged one ({"force": true} skips the publication wait). */
adminSystemRoutes.post('/keys/rotate', async (c) => {
  const body = parseBody(RotateKeysBody, await readJsonObject(c, { optional: true }), 'invalid_request');
  const step = await rotateSigningKeys(c.env, { force: body.force === true, requestId: c.get('requestId') });
  return c.json(
    step.step === 'staged'
      ? { step: 'staged', kid: step.key.kid, promote_after: step.promoteAfter }
      : { step: 'promoted', kid: step.kid, previous_verify_until: step.previousVerifyUntil },
  );
});

adminSystemRoutes.post('/initial-access-tokens', async (c) => {
  const body = parseBody(InitialAccessTokenBody, await readJsonObject(c, { optional: true }), 'invalid_request');
  const maxUses = body.max_uses ?? null;
  // One batch with its audit row (src/services/initial-access-tokens.ts).
  const issued = await issueInitialAccessTokenAudited(
    c.env,
    { ttlSeconds: body.expires_in, maxUses, label: body.label ?? null },
    c.get('requestId'),
  );
  c.header('Cache-Control', 'no-store');
  return c.json({ initial_access_token: issued.token, expires_at: issued.expiresAt, max_uses: issued.maxUses }, 201);
});

adminSystemRoutes.get('/audit', async (c) => {
  const limit = intParam(c.req.query('limit'), 'limit', 1, 1000, 50);
  const beforeId = c.req.query('before')
    ? intParam(c.req.query('before'), 'before', 1, Number.MAX_SAFE_INTEGER, 1)
    : undefined;
  const since = c.req.query('since')
    ? intParam(c.req.query('since'), 'since', 0, Number.MAX_SAFE_INTEGER, 0)
    : undefined;
  const event = c.req.query('event');
  if (event !== undefined && !/^[a-z_]{1,64}$/.test(event))
    throw new OAuthError('invalid_request', '"event" must be an event name such as client_auth_failed.');
  return c.json({ events: await listAuditEvents(c.env.DB, { limit, event, beforeId, since }) });
});
