/**
 * Bench-only wrapper of the product Worker (never in the product bundle): the very same app, with its D1, KV and R2
 * bindings wrapped to count round trips and, on request, delay each call as a near or far colo would.
 *
 * Per-request controls (request headers, set by the bench scenario):
 * - `x-bench-cold: 1` — a cold isolate, as close as one workerd isolate allows: a fresh env object (so a fresh
 *   validated Config, hence an empty key-ring cache and a new key object, so the verified-token cache misses too),
 *   the deny-list snapshot and the in-isolate client copies forgotten; what a new isolate finds in KV (the stamped
 *   copies of the ring and the deny-list, issue 17; the client records) is still there, as it would be in the colo.
 *   What is NOT redone: module evaluation and JIT
 *   warm-up (Miniflare cannot start a new isolate per request on a live socket; a new Miniflare per request would
 *   measure workerd's start, not ours).
 * - `x-bench-colo: near|far` — every D1/KV/R2 call waits the model's delay for that colo (LATENCY below) before
 *   it runs: wall-clock only, no CPU.
 * - `x-bench-cache: miss` — the image edge cache answers every match with a miss (a cold colo cache); puts still run.
 * - `x-bench-faults: <rate>` (issue 16, `SOAK_MIX=faults npm run soak`) — each D1/KV/R2 call fails with that
 *   probability (0 to 1), in the ways the platform fails (FAULTS below), through one warm env per rate. A failed
 *   D1 batch is either not applied or, one time in three, applied and then lost on the way back (a network cut after
 *   the commit: the case where a refresh client retries a rotation that did happen).
 * `GET /__bench/counts` answers the totals so far: { requests, d1, kv, kvWrites, r2, faults } (the bench reads it around a window).
 */
import worker from '../../../src/index';
import { forgetClientsInIsolate } from '../../../src/storage/clients';
import { forgetRevocationSnapshotInIsolate } from '../../../src/storage/revocations';
import { forgetUserSummariesInIsolate } from '../../../src/storage/user-summaries';

/**
 * ms per call. Near: the storage is in or next to the colo; far: an isolate on another continent from the D1 primary
 * and the R2 bucket's region (KV reads stay local: KV caches hot keys in every colo). Sources and reasoning:
 * docs/benchmarks.md, "Latency model".
 */
const LATENCY: Record<string, { d1: number; kv: number; r2: number }> = {
  near: { d1: 5, kv: 1, r2: 10 },
  far: { d1: 150, kv: 5, r2: 120 },
};

// `kv` counts KV reads (get, getWithMetadata, list); `kvWrites` its puts and deletes (a stamped copy's refresh).
const totals = { requests: 0, d1: 0, kv: 0, kvWrites: 0, r2: 0, faults: { before: 0, afterCommit: 0 } };

/** What a failing call throws, per binding: the messages of test/faults/harness.ts (the platform's own). */
const FAULTS: Record<Kind, string[]> = {
  d1: [
    'D1_ERROR: overloaded',
    'Network connection lost.',
    'D1_ERROR: D1 DB storage operation exceeded timeout which caused object to be reset.',
  ],
  kv: ['KV GET failed: 429 Too Many Requests', 'Network connection lost.'],
  r2: ['get: We encountered an internal error. Please try again. (10001)', 'Network connection lost.'],
};
const pick = (list: string[]) => list[Math.floor(Math.random() * list.length)];
const D1_TERMINALS = new Set(['first', 'run', 'all', 'raw']);

type Kind = 'd1' | 'kv' | 'r2';
/** ±20 % jitter, so p99 is not p50. */
const sleep = (ms: number) => (ms > 0 ? new Promise((r) => setTimeout(r, ms * (0.8 + 0.4 * Math.random()))) : null);

/** Per env: the probability that a call fails (0: never, no randomness drawn). */
function around(
  kind: Kind,
  delay: number,
  call: () => unknown,
  rate = 0,
  batch = false,
  counter: Kind | 'kvWrites' = kind,
): unknown {
  totals[counter]++;
  if (rate > 0 && Math.random() < rate) {
    if (batch && Math.random() < 1 / 3) {
      // Applied, then the reply is lost: D1 committed the transaction, the Worker sees a network error.
      totals.faults.afterCommit++;
      return Promise.resolve(call()).then(() => Promise.reject(new Error('Network connection lost.')));
    }
    totals.faults.before++;
    return Promise.reject(new Error(pick(FAULTS[kind])));
  }
  const wait = sleep(delay);
  return wait ? wait.then(call) : call();
}

function wrapStatement(stmt: D1PreparedStatement, delay: number, rate: number): D1PreparedStatement {
  return new Proxy(stmt, {
    get(target, prop) {
      const value = Reflect.get(target, prop);
      if (typeof value !== 'function') return value;
      if (prop === 'bind') return (...args: unknown[]) => wrapStatement(value.apply(target, args), delay, rate);
      if (D1_TERMINALS.has(String(prop)))
        return (...args: unknown[]) => around('d1', delay, () => value.apply(target, args), rate);
      return value.bind(target);
    },
  });
}

const unwrapped = new WeakMap<object, D1PreparedStatement>();

function wrapEnv(env: Env, colo: string | null, rate = 0): Env {
  const l = (colo && LATENCY[colo]) || { d1: 0, kv: 0, r2: 0 };
  const db = new Proxy(env.DB, {
    get(target, prop) {
      const value = Reflect.get(target, prop);
      if (typeof value !== 'function') return value;
      if (prop === 'prepare')
        return (sql: string) => {
          const raw = value.call(target, sql) as D1PreparedStatement;
          const wrapped = wrapStatement(raw, l.d1, rate);
          unwrapped.set(wrapped, raw);
          return wrapped;
        };
      if (prop === 'batch')
        return (stmts: D1PreparedStatement[]) =>
          around(
            'd1',
            l.d1,
            () =>
              value.call(
                target,
                stmts.map((s) => unwrapped.get(s) ?? s),
              ),
            rate,
            true,
          );
      if (prop === 'exec') return (...args: unknown[]) => around('d1', l.d1, () => value.apply(target, args), rate);
      return value.bind(target);
    },
  });
  const counted = <T extends object>(binding: T, kind: Kind, delay: number): T =>
    new Proxy(binding, {
      get(target, prop) {
        const value = Reflect.get(target, prop);
        if (typeof value !== 'function') return value;
        const counter = kind === 'kv' && (prop === 'put' || prop === 'delete') ? 'kvWrites' : kind;
        return (...args: unknown[]) => around(kind, delay, () => value.apply(target, args), rate, false, counter);
      },
    });
  const kv = counted(env.CACHE, 'kv', l.kv);
  const files = counted(env.FILES, 'r2', l.r2);
  return new Proxy(env, {
    get(target, prop) {
      if (prop === 'DB') return db;
      if (prop === 'CACHE') return kv;
      if (prop === 'FILES') return files;
      return Reflect.get(target, prop);
    },
  });
}

/** Warm requests reuse one wrapped env per colo, so the product's per-env caches (config, key ring) stay warm. */
const warmEnvs = new Map<string, Env>();

// The image edge cache's miss mode: every scenario's requests carry the same headers, and scenarios run one at a time.
let forceMiss = false;
const edge = caches.default;
const realMatch = edge.match.bind(edge);
edge.match = ((request: RequestInfo, options?: CacheQueryOptions) =>
  forceMiss ? Promise.resolve(undefined) : realMatch(request, options)) as Cache['match'];

export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    if (new URL(request.url).pathname === '/__bench/counts') return Response.json(totals);
    totals.requests++;
    const colo = request.headers.get('x-bench-colo');
    forceMiss = request.headers.get('x-bench-cache') === 'miss';
    let wrapped: Env;
    if (request.headers.get('x-bench-cold') === '1') {
      forgetRevocationSnapshotInIsolate();
      forgetClientsInIsolate();
      forgetUserSummariesInIsolate();
      wrapped = wrapEnv(env, colo);
    } else {
      const rate = Math.min(1, Math.max(0, Number(request.headers.get('x-bench-faults') ?? 0) || 0));
      const key = `${colo ?? ''}|${rate}`;
      wrapped = warmEnvs.get(key) ?? wrapEnv(env, colo, rate);
      warmEnvs.set(key, wrapped);
    }
    return worker.fetch(request, wrapped, ctx);
  },
} satisfies ExportedHandler<Env>;
