/**
 * Fault matrix, what is not an HTTP request (issue 16, docs/fault-matrix.md): the cron cleanup (`scheduled` with the
 * faulty env) and the TokenVerifier RPC methods (called on an instance built with the faulty env, as workerd would
 * build it for a service-binding call). Same sampling as test/faults/matrix.ts (faultPoints, kindsAt).
 */
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { afterAll, describe, expect, it } from 'vitest';
import worker from '../../src/index';
import { nowSeconds } from '../../src/lib/clock';
import { TokenVerifier } from '../../src/rpc/token-verifier';
import type { CallerResult } from '../../src/rpc/verify-for-caller';
import { seedClient } from '../helpers';
import { count, formRequest } from './fixtures';
import { type FaultPlan, faultPoints, faultyEnv, sendClean, type Trace } from './harness';
import { ALWAYS_BEST_EFFORT, kindsAt, newTally } from './matrix';

const tally = newTally();

async function scheduled(plan: FaultPlan): Promise<Trace> {
  const trace: Trace = { calls: [], fired: null };
  const ctx = createExecutionContext();
  const controller = { cron: '*/15 * * * *', scheduledTime: Date.now(), noRetry: () => {} } as ScheduledController;
  await worker.scheduled!(controller, faultyEnv(plan, trace), ctx);
  await waitOnExecutionContext(ctx);
  return trace;
}

/** Expired and live rows in three of the cleaned tables, and an openly registered client idle for a year. */
async function seedHousekeeping(): Promise<{ tag: string; idle: string }> {
  const tag = crypto.randomUUID();
  const now = nowSeconds();
  const idle = (await seedClient()).id;
  await env.DB.batch([
    env.DB.prepare(
      `INSERT INTO refresh_tokens (hash, family_id, client_id, user_id, scope, scope_mask, created_at, expires_at)
       VALUES (?1, 'f', 'c', NULL, 'base', 1, ?2, ?3), (?4, 'f', 'c', NULL, 'base', 1, ?2, ?5)`,
    ).bind(`old-${tag}`, now - 100, now - 1, `live-${tag}`, now + 3600),
    env.DB.prepare(
      "INSERT INTO revocations (kind, value, created_at, expires_at) VALUES ('jti', ?1, ?2, ?3), ('jti', ?4, ?2, ?5)",
    ).bind(`old-${tag}`, now - 100, now - 1, `live-${tag}`, now + 3600),
    env.DB.prepare(
      'INSERT INTO initial_access_tokens (hash, created_at, expires_at) VALUES (?1, ?2, ?3), (?4, ?2, ?5)',
    ).bind(`old-${tag}`, now - 100, now - 1, `live-${tag}`, now + 3600),
    env.DB.prepare('UPDATE clients SET registered_openly = 1, created_at = ?2, last_used_at = NULL WHERE id = ?1').bind(
      idle,
      now - 400 * 86_400,
    ),
  ]);
  return { tag, idle };
}

const TABLES = ['refresh_tokens', 'revocations', 'initial_access_tokens'] as const;
const keyOf = { refresh_tokens: 'hash', revocations: 'value', initial_access_tokens: 'hash' } as const;

async function rows(table: (typeof TABLES)[number], value: string): Promise<number> {
  return count(`SELECT COUNT(*) AS n FROM ${table} WHERE ${keyOf[table]} = ?1`, value);
}

/** The idle client is gone with everything issued to it, or still whole (src/services/delete-client.ts, one batch). */
async function idleClientWholeOrGone(id: string): Promise<boolean> {
  const client = await count('SELECT COUNT(*) AS n FROM clients WHERE id = ?1', id);
  const audited = await count(
    "SELECT COUNT(*) AS n FROM audit_events WHERE event = 'client_deleted' AND subject = ?1",
    id,
  );
  const denied = await count("SELECT COUNT(*) AS n FROM revocations WHERE kind = 'client' AND value = ?1", id);
  expect(audited).toBe(1 - client);
  expect(denied).toBe(1 - client);
  return client === 0;
}

describe('fault matrix: cron cleanup and TokenVerifier RPC', () => {
  it('cron cleanup: a failing call never fails the run, deletes nothing live, and the next run finishes', async () => {
    tally.operations.add('cron cleanup');
    const first = await seedHousekeeping();
    const counting = await scheduled({ at: null, kind: 'network' });
    const n = counting.calls.length;
    expect(n).toBeGreaterThan(8); // one DELETE per table, the key retirement, the idle clients' read and delete
    expect(await idleClientWholeOrGone(first.idle)).toBe(true);
    // Every k would be 10+ runs of the whole job; the sample is faultPoints' (first two, middle, last two).
    const points = faultPoints(n);
    for (const [i, k] of points.entries()) {
      for (const kind of kindsAt(i, points.length)) {
        tally.tried++;
        const s = await seedHousekeeping();
        // `scheduled` resolves: each table's failure is logged and the others still run (src/jobs/cleanup.ts).
        const trace = await scheduled({ at: k, kind });
        for (const table of TABLES) expect(await rows(table, `live-${s.tag}`), `${table} live row`).toBe(1);
        await idleClientWholeOrGone(s.idle);
        // The next run (no fault) finishes the job.
        await scheduled({ at: null, kind: 'network' });
        for (const table of TABLES) {
          expect(await rows(table, `old-${s.tag}`), `${table} expired row after the retry`).toBe(0);
          expect(await rows(table, `live-${s.tag}`)).toBe(1);
        }
        expect(await idleClientWholeOrGone(s.idle)).toBe(true);
        expect(trace.fired).not.toBeNull();
        tally.held++;
      }
    }
  });

  it('TokenVerifier.verify and verifyRequest: a storage failure is temporarily_unavailable, never a throw', async () => {
    const client = await seedClient();
    const out = await sendClean(formRequest('/oauth2/token', { grant_type: 'client_credentials' }, client));
    const token = (JSON.parse(out.body) as { access_token: string }).access_token;
    const calls: [string, (v: TokenVerifier) => Promise<CallerResult>][] = [
      ['rpc verify', (v) => v.verify(token, { scopes: ['base'] })],
      [
        'rpc verifyRequest',
        (v) =>
          v.verifyRequest({ authorization: `Bearer ${token}`, url: 'https://api.example/x' }, { scopes: ['base'] }),
      ],
    ];
    for (const [name, call] of calls) {
      tally.operations.add(name);
      const run = async (plan: FaultPlan) => {
        const trace: Trace = { calls: [], fired: null };
        const ctx = createExecutionContext();
        const verifier = new TokenVerifier(ctx, faultyEnv(plan, trace));
        const result = await call(verifier);
        await waitOnExecutionContext(ctx);
        return { result, trace };
      };
      const clean = await run({ at: null, kind: 'network' });
      expect(clean.result.ok, JSON.stringify(clean.result)).toBe(true);
      const points = faultPoints(clean.trace.calls.length);
      expect(points.length).toBeGreaterThan(0);
      for (const [i, k] of points.entries()) {
        for (const kind of kindsAt(i, points.length)) {
          tally.tried++;
          const { result, trace } = await run({ at: k, kind });
          const absorbed = trace.fired !== null && ALWAYS_BEST_EFFORT.some((re) => re.test(trace.fired!));
          if (trace.fired === null) tally.notReached++;
          if (absorbed) tally.absorbed++;
          if (trace.fired === null || absorbed) expect(result.ok, `${name} k=${k} ${kind} ${trace.fired}`).toBe(true);
          else
            expect(result, `${name} k=${k} ${kind} ${trace.fired}`).toMatchObject({
              ok: false,
              error: 'temporarily_unavailable',
              status: 503,
            });
          expect((await run({ at: null, kind })).result.ok).toBe(true);
          tally.held++;
        }
      }
    }
  });

  afterAll(() => {
    console.log(
      `fault matrix (cron and RPC): ${tally.operations.size} operations, ${tally.tried} cases tried, ${tally.held} held`,
    );
  });

  it('figure: every case tried held', () => {
    expect(tally.held).toBe(tally.tried);
  });
});
