/**
 * Helpers of the degraded-mode and lost-reply tests (issue 16, docs/reliability.md): the product's own `fetch` export
 * driven with an env whose vars are changed (a new env object, so config.ts validates it afresh) or whose bindings
 * fail (test/faults/harness.ts `faultyEnv`, real bindings behind a Proxy). No test switch in the product.
 */
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import worker from '../../src/index';
import { basic, ORIGIN, type TestClient } from '../helpers';
import { faultyEnv, type Trace } from './harness';

/** `base` with some vars replaced (`undefined` removes one, so its default applies). */
export function withVars(vars: Record<string, string | undefined>, base: Env = env): Env {
  return new Proxy(base, {
    get: (target, prop) => (typeof prop === 'string' && prop in vars ? vars[prop] : Reflect.get(target, prop)),
    has: (target, prop) => (typeof prop === 'string' && prop in vars ? vars[prop] !== undefined : prop in target),
  });
}

/** An env where every call of the named bindings fails (`D1_ERROR: overloaded`, KV 429, R2 10001). */
export function failing(...bindings: ('d1' | 'kv' | 'r2')[]): Env {
  const trace: Trace = { calls: [], fired: null };
  return faultyEnv({ at: null, kind: 'overloaded', every: new Set(bindings) }, trace);
}

/** One request through the Worker's fetch export with `e`; the body read, the waitUntil work finished. */
export async function send(
  e: Env,
  path: string,
  init: RequestInit = {},
): Promise<{ res: Response; body: string; json: () => Record<string, unknown> }> {
  const ctx = createExecutionContext();
  const res = await worker.fetch!(
    new Request(`${ORIGIN}${path}`, init) as Request<unknown, IncomingRequestCfProperties>,
    e,
    ctx,
  );
  const body = new TextDecoder().decode(await res.arrayBuffer()); // Response.text() on an image makes workerd warn
  await waitOnExecutionContext(ctx);
  return { res, body, json: () => JSON.parse(body) as Record<string, unknown> };
}

/** A token request (client_secret_basic) through `send`. */
export function sendToken(e: Env, params: Record<string, string>, client?: TestClient) {
  const headers: Record<string, string> = { 'Content-Type': 'application/x-www-form-urlencoded' };
  if (client) headers.Authorization = basic(client.id, client.secret);
  return send(e, '/oauth2/token', { method: 'POST', headers, body: new URLSearchParams(params).toString() });
}

/**
 * An env whose `nth` D1 batch of the request commits and then fails as a network cut would (`Network connection
 * lost.`): the write is stored, the Worker never learns it, the client gets an error (the lost reply of issue 16).
 */
export function replyLostAfterBatch(nth = 1, base: Env = env): Env {
  let seen = 0;
  const db = new Proxy(base.DB, {
    get(target, prop) {
      const value = Reflect.get(target, prop);
      if (typeof value !== 'function') return value;
      if (prop !== 'batch') return value.bind(target);
      return async (stmts: D1PreparedStatement[]) => {
        const out = await value.call(target, stmts);
        if (++seen === nth) throw new Error('Network connection lost.');
        return out;
      };
    },
  });
  return new Proxy(base, { get: (target, prop) => (prop === 'DB' ? db : Reflect.get(target, prop)) });
}
