/**
 * Round trips of the authorization_code grant (DESIGN.md budget: 1 D1 batch, ≤ 1 KV read), counted by
 * wrapping the real bindings (nothing is mocked: every call goes through to D1 and KV).
 */
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { getConfig } from '../../src/config';
import { assertionAudience } from '../../src/oauth/client-assertion';
import { authenticateClient } from '../../src/services/client-auth';
import { authorizationCodeGrant } from '../../src/services/grants/authorization-code';
import { getClient } from '../../src/storage/clients';
import { getKeyRing } from '../../src/tokens/keyring';
import { authorizeFlow } from '../authz-helpers';
import { basic, ORIGIN, seedClient, seedUser } from '../helpers';

interface Counts {
  d1Batches: number;
  d1Queries: number;
  kvReads: number;
  kvWrites: number;
}

function countingEnv(): { env: Env; counts: Counts } {
  const counts: Counts = { d1Batches: 0, d1Queries: 0, kvReads: 0, kvWrites: 0 };
  const real = new WeakMap<object, D1PreparedStatement>();
  const wrapStmt = (s: D1PreparedStatement): D1PreparedStatement => {
    const p = new Proxy(s, {
      get(t, prop) {
        if (prop === 'bind') return (...args: unknown[]) => wrapStmt(t.bind(...args));
        if (prop === 'first' || prop === 'run' || prop === 'all' || prop === 'raw') {
          return (...args: unknown[]) => {
            counts.d1Queries++;
            return (t[prop] as (...a: unknown[]) => unknown).apply(t, args);
          };
        }
        const v = Reflect.get(t, prop);
        return typeof v === 'function' ? v.bind(t) : v;
      },
    });
    real.set(p, s);
    return p;
  };
  const DB = new Proxy(env.DB, {
    get(t, prop) {
      if (prop === 'prepare') return (sql: string) => wrapStmt(t.prepare(sql));
      if (prop === 'batch') {
        return (stmts: D1PreparedStatement[]) => {
          counts.d1Batches++;
          return t.batch(stmts.map((s) => real.get(s) ?? s));
        };
      }
      const v = Reflect.get(t, prop);
      return typeof v === 'function' ? v.bind(t) : v;
    },
  });
  const CACHE = new Proxy(env.CACHE, {
    get(t, prop) {
      const v = Reflect.get(t, prop);
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        if (prop === 'get' || prop === 'getWithMetadata') counts.kvReads++;
        if (prop === 'put' || prop === 'delete') counts.kvWrites++;
        return (v as (...a: unknown[]) => unknown).apply(t, args);
      };
    },
  });
  return { env: { ...env, DB, CACHE } as Env, counts };
}

describe('authorization_code grant cost', () => {
  it('costs one D1 batch and at most one KV read (warm client cache), with a refresh token', async () => {
    const client = await seedClient();
    const user = await seedUser();
    const r = await authorizeFlow(client, user);
    await getClient(env.DB, env.CACHE, client.id); // warm the client cache, as in steady state
    const { env: counted, counts } = countingEnv();
    const params = new Map([
      ['grant_type', 'authorization_code'],
      ['code', r.code],
      ['redirect_uri', 'https://app.example/cb'],
      ['code_verifier', r.verifier!],
    ]);
    const caller = await authenticateClient(
      counted,
      basic(client.id, client.secret),
      params,
      assertionAudience(ORIGIN),
    );
    const result = await authorizationCodeGrant({
      env: counted,
      config: getConfig(env),
      ring: await getKeyRing(env),
      params,
      caller,
      requestId: 't',
    });
    expect(result.refreshToken).toBeTruthy();
    // The client record comes from the in-isolate copy here (0 KV); a cold isolate reads it from KV (1).
    expect(counts.d1Batches).toBe(1);
    expect(counts.d1Queries).toBe(0);
    expect(counts.kvReads).toBeLessThanOrEqual(1);
    expect(counts.kvWrites).toBe(0);
  });
});
