/**
 * Storage failures are unavailability (issue 16, docs/reliability.md). Every call the product makes on D1, KV or R2
 * goes through `guardStorage(env)`, which remembers each error such a call throws or rejects with; the one error
 * renderer (src/app.ts, and the pages' in src/ui/render.ts) answers a remembered error as 503
 * `temporarily_unavailable` with Retry-After instead of a 500.
 *
 * Why tag rather than match messages: a failing call's message is not a closed list (locally D1 says
 * `D1_ERROR: … internal error; reference = …`, on Cloudflare `D1_ERROR: overloaded`, `Network connection lost`,
 * KV `429`), so only where an error came from says it is storage's. The error itself passes through unchanged, so
 * code that inspects it (a UNIQUE constraint in routes/admin/clients.ts, R2's codes in storage/files.ts) still sees
 * the original. An error that storage raises because *our* statement is wrong (SQLITE_CONSTRAINT escaping, a syntax
 * or schema error) is a bug, not unavailability: it stays a 500 so it is seen.
 */
import { OAuthError } from '../lib/errors';

/**
 * RFC 9110 §10.2.3 Retry-After, in seconds. D1's overload and KV's per-key write limit clear within about a second;
 * 2 s lets a client retry soon without a thundering herd on the same second.
 */
export const RETRY_AFTER_SECONDS = 2;

const storageErrors = new WeakSet<object>();

/** A storage error that means our statement is wrong, not that storage is unavailable (stays a 500). */
const OUR_BUG = /SQLITE_(CONSTRAINT|MISMATCH|RANGE|TOOBIG)|syntax error|no such (table|column)|has no column/;

/** Whether `err` was thrown by a D1, KV or R2 call and means "try again later". */
export function isStorageUnavailable(err: unknown): boolean {
  return (
    typeof err === 'object' && err !== null && storageErrors.has(err) && !OUR_BUG.test(String((err as Error).message))
  );
}

/**
 * The 503 of RFC 6749 §5.2 / §4.1.2.1 (`temporarily_unavailable`), with Retry-After. Also on protected resources:
 * RFC 6750 §3.1 has no code for it and a `WWW-Authenticate` challenge would tell the client its token is at fault,
 * so the answer carries none (docs/reliability.md).
 */
export function temporarilyUnavailable(reason?: string): OAuthError {
  return new OAuthError(
    'temporarily_unavailable',
    `The server's storage is briefly unavailable; retry in ${RETRY_AFTER_SECONDS} seconds.`,
    { headers: { 'Retry-After': String(RETRY_AFTER_SECONDS) }, reason },
  );
}

/** Marks `err` as a storage failure and returns it, for a caller that meets one outside the guarded bindings. */
export function markStorageError<T>(err: T): T {
  if (typeof err === 'object' && err !== null) storageErrors.add(err);
  return err;
}

function tagged<A extends unknown[], R>(fn: (...args: A) => R, self: unknown): (...args: A) => R {
  return (...args: A) => {
    let out: R;
    try {
      out = fn.apply(self, args);
    } catch (err) {
      throw markStorageError(err);
    }
    if (out instanceof Promise) return out.catch((err: unknown) => Promise.reject(markStorageError(err))) as R;
    return out;
  };
}

const D1_TERMINALS = new Set(['first', 'run', 'all', 'raw']);
const R2_CALLS = new Set(['get', 'put', 'head', 'delete', 'list', 'createMultipartUpload', 'resumeMultipartUpload']);
const KV_CALLS = new Set(['get', 'getWithMetadata', 'put', 'delete', 'list']);

function guardD1(db: D1Database): D1Database {
  const originals = new WeakMap<object, D1PreparedStatement>();
  const statement = (stmt: D1PreparedStatement): D1PreparedStatement => {
    const proxy = new Proxy(stmt, {
      get(target, prop) {
        const value = Reflect.get(target, prop);
        if (typeof value !== 'function') return value;
        if (prop === 'bind') return (...args: unknown[]) => statement(value.apply(target, args));
        if (D1_TERMINALS.has(prop as string)) return tagged(value, target);
        return value.bind(target);
      },
    });
    originals.set(proxy, stmt);
    return proxy;
  };
  return new Proxy(db, {
    get(target, prop) {
      const value = Reflect.get(target, prop);
      if (typeof value !== 'function') return value;
      if (prop === 'prepare') return (sql: string) => statement(value.call(target, sql));
      // D1 wants its own statements in a batch, not our proxies.
      if (prop === 'batch')
        return tagged(
          (stmts: D1PreparedStatement[]) =>
            value.call(
              target,
              stmts.map((s) => originals.get(s) ?? s),
            ),
          target,
        );
      if (prop === 'exec' || prop === 'dump') return tagged(value, target);
      return value.bind(target);
    },
  });
}

function guardCalls<T extends object>(binding: T, calls: Set<string>): T {
  return new Proxy(binding, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop);
      if (typeof value !== 'function') return value;
      return calls.has(prop as string) ? tagged(value as (...a: unknown[]) => unknown, target) : value.bind(target);
    },
  });
}

/** One guarded env per env object (workerd passes the same one to every request of an isolate). */
const guarded = new WeakMap<Env, Env>();

/** `env` with DB, CACHE and FILES whose failures are remembered as storage failures (see above). */
export function guardStorage(env: Env): Env {
  let out = guarded.get(env);
  if (!out) {
    const db = guardD1(env.DB);
    const cache = guardCalls(env.CACHE, KV_CALLS);
    const files = guardCalls(env.FILES, R2_CALLS);
    out = new Proxy(env, {
      get(target, prop) {
        if (prop === 'DB') return db;
        if (prop === 'CACHE') return cache;
        if (prop === 'FILES') return files;
        return Reflect.get(target, prop);
      },
    });
    guarded.set(env, out);
  }
  return out;
}
