/**
 * Signing-key rotation without redeploy or downtime (procedure in docs/operations.md). Two steps, each one
 * `POST /admin/keys/rotate` (CLI: `keys rotate`):
 * 1. stage: a new key is created as 'next' — published in the JWKS, not yet signing;
 * 2. promote (once every cache has seen the JWKS, i.e. PUBLISH_DELAY_SECONDS later, or with `force`): next → current,
 *    the old current → previous, which keeps verifying until the last token it may have signed has expired.
 * Each step is one D1 batch with its audit row (issue 12), so a failure leaves the keys as they were.
 */

import { getConfig } from '../config';
import { nowSeconds } from '../lib/clock';
import { OAuthError } from '../lib/errors';
import { auditStatementIf } from '../storage/audit';
import {
  KEY_RING_COPY_KEY,
  loadLiveKeys,
  promotedKid,
  promoteKeyStatements,
  type SigningKeyInfo,
  type SigningKeyRow,
  stageKeyStatement,
  toKeyInfo,
} from '../storage/signing-keys';
import { dropStampedCopy } from '../storage/stamped-copy';
import { KEY_REFRESH_SECONDS, publicJwk, resetKeyRing } from '../tokens/keyring';
import { CLOCK_TOLERANCE } from '../tokens/verify-access-token';

/** Cache-Control max-age of /.well-known/jwks.json. */
export const JWKS_MAX_AGE_SECONDS = 300;
/** A staged key may sign once every JWKS cache (max-age) and every isolate's ring (refresh) has it. */
export const PUBLISH_DELAY_SECONDS = JWKS_MAX_AGE_SECONDS + KEY_REFRESH_SECONDS;

export type RotationStep =
  | { step: 'staged'; key: SigningKeyInfo; promoteAfter: number }
  | { step: 'promoted'; kid: string; previousVerifyUntil: number };

/** Performs the next rotation step. Throws 409 invalid_request when a staged key is not yet publishable. */
export async function rotateSigningKeys(
  env: Env,
  options: { force?: boolean; requestId?: string } = {},
): Promise<RotationStep> {
  const config = getConfig(env);
  const now = nowSeconds();
  const live = await loadLiveKeys(env.DB, now);
  const next = live.find((k) => k.state === 'next' && k.alg !== 'RS256') ?? live.find((k) => k.state === 'next');
  if (!next) {
    // One batch: the staged key and its audit row, written only if the INSERT happened (the key is now 'next').
    const { statement, rsaStatement, kid: stagedKid } = await stageKeyStatement(env.DB, config.keyEncryptionKey);
    const [inserted] = await env.DB.batch<SigningKeyRow>([
      statement,
      rsaStatement,
      auditStatementIf(
        env.DB,
        'keys_rotated',
        { actor: 'admin', subject: stagedKid, detail: { step: 'staged' }, requestId: options.requestId },
        { sql: "EXISTS (SELECT 1 FROM signing_keys WHERE kid = ?7 AND state = 'next')", params: [stagedKid] },
      ),
    ]);
    const row = inserted.results[0];
    if (!row)
      throw new OAuthError(
        'invalid_request',
        'Another rotation staged a key at the same moment; run the command again.',
        { status: 409 },
      );
    await keysChanged(env);
    const key = toKeyInfo(row);
    return { step: 'staged', key, promoteAfter: key.created_at + PUBLISH_DELAY_SECONDS };
  }
  const promoteAfter = next.created_at + PUBLISH_DELAY_SECONDS;
  if (!options.force && now < promoteAfter) {
    throw new OAuthError(
      'invalid_request',
      `The staged key ${next.kid} is published but caches may not have it yet; promote it after ${new Date(promoteAfter * 1000).toISOString()} (in ${promoteAfter - now} s), or force it.`,
      { status: 409 },
    );
  }
  // A token signed by the old key up to KEY_REFRESH_SECONDS from now (isolates that have not reloaded yet)
  // lives accessTokenTtl more; verifiers allow CLOCK_TOLERANCE of skew.
  const verifyUntil = now + KEY_REFRESH_SECONDS + config.accessTokenTtl + CLOCK_TOLERANCE;
  const bootstrap = config.signingKeys.map(publicJwk);
  const previous = live.some((k) => k.state === 'current')
    ? live.filter((k) => k.state === 'current').map((k) => k.kid)
    : bootstrap.map((k) => k.kid);
  // One batch: the promotion and its audit row, written only if a key was promoted (the key made current at `now`).
  const promoted = "state = 'current' AND activated_at = ?7";
  const stmts = promoteKeyStatements(env.DB, {
    publishedBefore: options.force ? now : now - PUBLISH_DELAY_SECONDS,
    verifyUntil,
    bootstrap,
    now,
  });
  const results = await env.DB.batch<{ kid: string; alg: string }>([
    ...stmts,
    auditStatementIf(
      env.DB,
      'keys_rotated',
      {
        actor: 'admin',
        detail: { step: 'promoted', previous, forced: options.force === true },
        requestId: options.requestId,
      },
      {
        sql: `EXISTS (SELECT 1 FROM signing_keys WHERE ${promoted})`,
        params: [now],
        subjectSql: `(SELECT kid FROM signing_keys WHERE ${promoted} LIMIT 1)`,
      },
    ),
  ]);
  const kid = promotedKid(results[stmts.length - 1].results);
  if (!kid)
    throw new OAuthError('invalid_request', 'The staged key was promoted by another request; nothing to do.', {
      status: 409,
    });
  await keysChanged(env);
  return { step: 'promoted', kid, previousVerifyUntil: verifyUntil };
}

/**
 * After a rotation step: this isolate reads the keys from D1 at once, and the ring's KV copy is dropped so this
 * colo's next cold isolate does too. Other colos may still serve the old copy (KV propagation), but only while its
 * stamp is younger than KEY_REFRESH_SECONDS, the staleness every isolate's in-memory ring already had: a demoted key
 * signs at most KEY_REFRESH_SECONDS after the promotion, which `verifyUntil` covers, and a staged key reaches every
 * ring within KEY_REFRESH_SECONDS, which PUBLISH_DELAY_SECONDS covers. A failed drop is a warning for that reason:
 * the step is committed in D1 and the bound holds without it.
 */
async function keysChanged(env: Env): Promise<void> {
  await dropStampedCopy(env.CACHE, KEY_RING_COPY_KEY);
  resetKeyRing(env);
}
