import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import worker from '../../src/index';
import { BATCH_SIZE } from '../../src/jobs/cleanup';
import { nowSeconds } from '../../src/lib/clock';
import { freezeClock } from '../ops-helpers';

async function count(sql: string): Promise<number> {
  return (await env.DB.prepare(sql).first<{ n: number }>())!.n;
}

const ctx = { waitUntil: () => {}, passThroughOnException: () => {} } as unknown as ExecutionContext;
const controller = { cron: '*/15 * * * *', scheduledTime: Date.now(), noRetry: () => {} } as ScheduledController;

describe('scheduled cleanup (Cron Trigger)', () => {
  it('deletes only what has expired, in bounded batches, across every table', async () => {
    freezeClock();
    const now = nowSeconds();
    const rt = env.DB.prepare(
      `INSERT INTO refresh_tokens (hash, family_id, client_id, user_id, scope, scope_mask, created_at, expires_at) VALUES (?1, 'f', 'c', NULL, 'base', 1, ?2, ?3)`,
    );
    const rev = env.DB.prepare('INSERT INTO revocations (kind, value, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)');
    const thr = env.DB.prepare(
      'INSERT INTO throttle (key, failures, window_start, locked_until) VALUES (?1, 3, ?2, ?3)',
    );
    const iat = env.DB.prepare('INSERT INTO initial_access_tokens (hash, created_at, expires_at) VALUES (?1, ?2, ?3)');
    const stmts: D1PreparedStatement[] = [];
    // More expired refresh tokens than one batch, to exercise the loop.
    for (let i = 0; i < BATCH_SIZE + 20; i++) stmts.push(rt.bind(`old-${i}`, now - 100, now - 1));
    stmts.push(rt.bind('live', now, now + 10), rt.bind('edge', now - 100, now));
    stmts.push(rev.bind('jti', 'old', now - 100, now - 1), rev.bind('jti', 'live', now, now + 3600));
    stmts.push(
      thr.bind('client:old', now - 3600, 0),
      thr.bind('client:recent', now - 60, 0),
      thr.bind('user:locked', now - 3600, now + 60),
    );
    stmts.push(iat.bind('old', now - 100, now - 1), iat.bind('live', now, now + 60));
    stmts.push(
      env.DB.prepare('INSERT INTO audit_events (at, event) VALUES (?1, ?2), (?3, ?4)').bind(
        now - 200 * 86_400,
        'login_failed',
        now - 60,
        'login_failed',
      ),
    );
    const code = env.DB.prepare(
      `INSERT INTO authorization_codes (hash, client_id, user_id, redirect_uri, redirect_uri_sent, scope, scope_mask, code_challenge, created_at, expires_at)
       VALUES (?1, 'c', 'u', 'https://a.example/cb', 1, 'base', 1, NULL, ?2, ?3)`,
    );
    // Codes stay a day past expiry so a late replay is still recognised.
    stmts.push(code.bind('code-old', now - 90_000, now - 86_401), code.bind('code-replayable', now - 3600, now - 3540));
    await env.DB.batch(stmts);

    await worker.scheduled!(controller, env, ctx);

    expect(await count('SELECT COUNT(*) AS n FROM refresh_tokens')).toBe(1);
    expect(await count("SELECT COUNT(*) AS n FROM refresh_tokens WHERE hash = 'live'")).toBe(1);
    expect(await count("SELECT COUNT(*) AS n FROM revocations WHERE value = 'live'")).toBe(1);
    expect(await count("SELECT COUNT(*) AS n FROM revocations WHERE value = 'old'")).toBe(0);
    const keys = (await env.DB.prepare('SELECT key FROM throttle ORDER BY key').all<{ key: string }>()).results.map(
      (r) => r.key,
    );
    expect(keys).toEqual(['client:recent', 'user:locked']);
    const codes = (await env.DB.prepare('SELECT hash FROM authorization_codes').all<{ hash: string }>()).results.map(
      (r) => r.hash,
    );
    expect(codes).toEqual(['code-replayable']);
    expect(await count("SELECT COUNT(*) AS n FROM initial_access_tokens WHERE hash = 'old'")).toBe(0);
    expect(await count("SELECT COUNT(*) AS n FROM initial_access_tokens WHERE hash = 'live'")).toBe(1);
    expect(await count(`SELECT COUNT(*) AS n FROM audit_events WHERE at < ${now - 100 * 86_400}`)).toBe(0);
    expect(await count(`SELECT COUNT(*) AS n FROM audit_events WHERE at >= ${now - 3600}`)).toBeGreaterThan(0);
  });

  it('retires signing keys whose tokens have all expired, erasing the private key', async () => {
    freezeClock();
    const now = nowSeconds();
    await env.DB.prepare(
      `INSERT INTO signing_keys (kid, alg, state, public_jwk, private_jwk_enc, created_at, verify_until) VALUES
        ('gone', 'ES256', 'previous', '{}', 'sealed', ?1, ?2), ('still', 'ES256', 'previous', '{}', 'sealed', ?1, ?3)`,
    )
      .bind(now - 10_000, now - 1, now + 100)
      .run();
    await worker.scheduled!(controller, env, ctx);
    const rows = (await env.DB.prepare('SELECT kid, state, private_jwk_enc FROM signing_keys ORDER BY kid').all())
      .results;
    expect(rows).toEqual([
      { kid: 'gone', state: 'retired', private_jwk_enc: null },
      { kid: 'still', state: 'previous', private_jwk_enc: 'sealed' },
    ]);
  });
});
