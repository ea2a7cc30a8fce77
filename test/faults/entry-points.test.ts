/**
 * The entry points other than HTTP under storage failure (issue 16, docs/reliability.md): the TokenVerifier RPC
 * answers a typed `temporarily_unavailable` result (never a rejected call), and the cron cleanup finishes its
 * invocation, table by table, without a half-done delete.
 */
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it, vi } from 'vitest';
import worker from '../../src/index';
import { TokenVerifier } from '../../src/rpc/token-verifier';
import { seedClient } from '../helpers';
import { sendToken } from './fault-env';
import { type FaultPlan, faultyEnv, type Trace } from './harness';

const opts = { scopes: ['base'] };
const UNAVAILABLE = {
  ok: false,
  error: 'temporarily_unavailable',
  status: 503,
  retryAfter: 5,
  description: 'The authorization server cannot check the token right now; try again shortly.',
};

function switchable() {
  const down = new Set<'d1' | 'kv' | 'r2'>();
  const plan: FaultPlan = { at: null, kind: 'overloaded', every: down };
  const trace: Trace = { calls: [], fired: null };
  return { env: faultyEnv(plan, trace), down, trace };
}

describe('TokenVerifier RPC with storage down (real bindings failing)', () => {
  it('D1 down: a typed temporarily_unavailable result, then a verified token once D1 is back', async () => {
    const s = switchable();
    const client = await seedClient();
    const token = (
      (await sendToken(s.env, { grant_type: 'client_credentials', scope: 'base' }, client)).json() as {
        access_token: string;
      }
    ).access_token;
    const verifier = new TokenVerifier(createExecutionContext(), s.env);
    expect(await verifier.verify(token, opts)).toMatchObject({ ok: true });
    s.down.add('d1');
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    // The deny-list is read from D1 on every call ('now'): it cannot answer yes or no, so it says "try again".
    expect(await verifier.verify(token, opts)).toEqual(UNAVAILABLE);
    expect(
      await verifier.verifyRequest({ authorization: `Bearer ${token}`, url: 'https://rs.example/x' }, opts),
    ).toEqual(UNAVAILABLE);
    const logged = error.mock.calls.map(([line]) => JSON.parse(String(line)) as Record<string, unknown>);
    expect(logged.filter((l) => l.event === 'token_verifier_unavailable')).toEqual([
      expect.objectContaining({ storage: true, message: 'D1_ERROR: overloaded' }),
      expect.objectContaining({ storage: true, message: 'D1_ERROR: overloaded' }),
    ]);
    s.down.delete('d1');
    expect(await verifier.verify(token, opts)).toMatchObject({ ok: true, claims: { client_id: client.id } });
  });

  it('a refusal is still a refusal while D1 is down (a warm isolate needs no storage to refuse a malformed token)', async () => {
    const s = switchable();
    const client = await seedClient();
    await sendToken(s.env, { grant_type: 'client_credentials', scope: 'base' }, client); // the key ring loaded
    s.down.add('d1');
    const verifier = new TokenVerifier(createExecutionContext(), s.env);
    vi.spyOn(console, 'error').mockImplementation(() => {});
    const answer = await verifier.verify('not.a.jwt', opts);
    expect(answer).toMatchObject({ ok: false, error: 'invalid_token', status: 401 });
  });
});

describe('scheduled cleanup with D1 down', () => {
  it('finishes the invocation: each table logged as failed, nothing thrown; the next run cleans up', async () => {
    const s = switchable();
    s.down.add('d1');
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    const ctx = createExecutionContext();
    const controller = { cron: '*/15 * * * *', scheduledTime: Date.now(), noRetry: () => {} } as ScheduledController;
    await expect(worker.scheduled!(controller, s.env, ctx)).resolves.toBeUndefined();
    await waitOnExecutionContext(ctx);
    const failed = error.mock.calls
      .map(([line]) => JSON.parse(String(line)) as { event?: string; table?: string })
      .filter((l) => l.event === 'cleanup_failed')
      .map((l) => l.table);
    expect(failed).toEqual(expect.arrayContaining(['refresh_tokens', 'revocations', 'signing_keys', 'clients']));
    // An expired row the failed run could not delete goes at the next run.
    await env.DB.prepare(`INSERT INTO revocations (kind, value, created_at, expires_at) VALUES ('jti', ?1, 1, 2)`)
      .bind(`expired-${crypto.randomUUID()}`)
      .run();
    s.down.delete('d1');
    await worker.scheduled!(controller, s.env, createExecutionContext());
    const left = await env.DB.prepare('SELECT count(*) AS n FROM revocations WHERE expires_at <= 2').first<{
      n: number;
    }>();
    expect(left!.n).toBe(0);
  });
});
