/**
 * An env whose DB, CACHE and FILES count their round trips (test/integration/round-trips.test.ts,
 * test/integration/cold-isolate.test.ts). The real bindings are wrapped in Proxies, nothing is mocked: every call
 * still reaches storage, except with `failKv`, where every KV call rejects as a KV outage would (the call is still
 * counted, it never reaches KV). Each call makes a new env object, hence a new Config and key-ring cache: a cold
 * isolate as far as the per-env caches go.
 * Counting rules: D1 `first`/`run`/`all`/`raw` on a statement and `batch` are one round trip each;
 * KV `get`/`getWithMetadata`/`put`/`delete`/`list` one each (a bulk `get` of several keys is one); every R2 call one.
 */
import { env } from 'cloudflare:workers';

export interface Counts {
  d1: number;
  kv: number;
  r2: number;
  calls: string[];
}

const D1_TERMINALS = new Set(['first', 'run', 'all', 'raw']);
const KV_CALLS = new Set(['get', 'getWithMetadata', 'put', 'delete', 'list']);
const R2_CALLS = new Set(['get', 'put', 'head', 'delete', 'list', 'createMultipartUpload', 'resumeMultipartUpload']);

/** An env whose DB, CACHE and FILES count their round trips into `counts`. */
export function countingEnv(counts: Counts, options: { failKv?: boolean } = {}): Env {
  const targets = new WeakMap<object, D1PreparedStatement>();
  const wrapStatement = (stmt: D1PreparedStatement): D1PreparedStatement => {
    const proxy = new Proxy(stmt, {
      get(target, prop) {
        const value = Reflect.get(target, prop);
        if (typeof value !== 'function') return value;
        if (prop === 'bind') return (...args: unknown[]) => wrapStatement(value.apply(target, args));
        if (D1_TERMINALS.has(String(prop))) {
          return (...args: unknown[]) => {
            counts.d1++;
            counts.calls.push(`D1.${String(prop)}`);
            return value.apply(target, args);
          };
        }
        return value.bind(target);
      },
    });
    targets.set(proxy, stmt);
    return proxy;
  };
  const db = new Proxy(env.DB, {
    get(target, prop) {
      const value = Reflect.get(target, prop);
      if (typeof value !== 'function') return value;
      if (prop === 'prepare') return (sql: string) => wrapStatement(value.call(target, sql));
      if (prop === 'batch') {
        return (stmts: D1PreparedStatement[]) => {
          counts.d1++;
          counts.calls.push(`D1.batch(${stmts.length})`);
          return value.call(
            target,
            stmts.map((s) => targets.get(s) ?? s),
          );
        };
      }
      if (prop === 'exec' || prop === 'withSession') {
        return (...args: unknown[]) => {
          counts.d1++;
          counts.calls.push(`D1.${String(prop)}`);
          return value.apply(target, args);
        };
      }
      return value.bind(target);
    },
  });
  const counted = <T extends object>(binding: T, names: Set<string>, kind: 'kv' | 'r2', label: string): T =>
    new Proxy(binding, {
      get(target, prop) {
        const value = Reflect.get(target, prop);
        if (typeof value !== 'function') return value;
        if (!names.has(String(prop))) return value.bind(target);
        return (...args: unknown[]) => {
          counts[kind]++;
          counts.calls.push(`${label}.${String(prop)}`);
          if (kind === 'kv' && options.failKv)
            return Promise.reject(new Error('KV GET failed: 503 Service Unavailable'));
          return value.apply(target, args);
        };
      },
    });
  const cache = counted(env.CACHE, KV_CALLS, 'kv', 'KV');
  const files = counted(env.FILES, R2_CALLS, 'r2', 'R2');
  return new Proxy(env, {
    get(target, prop) {
      if (prop === 'DB') return db;
      if (prop === 'CACHE') return cache;
      if (prop === 'FILES') return files;
      return Reflect.get(target, prop);
    },
  });
}
