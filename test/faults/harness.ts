/**
 * The storage fault harness (issue 16, docs/reliability.md). The real D1, KV and R2 bindings of workerd are wrapped
 * in Proxies, as test/integration/round-trips.test.ts counts them, and the k-th storage call of one request fails in
 * the chosen way; the product is driven through its own `fetch` export with that env (no test switch in the product).
 * A call is one D1 `first`/`run`/`all`/`raw`/`batch`/`exec`, one KV `get`/`getWithMetadata`/`put`/`delete`/`list`,
 * one R2 call.
 *
 * Each `sendWithFaults` builds a new env object, and the product keeps its per-env caches (the validated config, the
 * key ring, the storage guard) per env object: every faulted request runs as an isolate's first one, so the key
 * ring's D1 read is in every trace (the worst case; a warm isolate makes fewer calls). The module-level caches (client
 * records, the revocation snapshot) are shared with the rest of the test file, which is why a test makes a fresh
 * client per case and why a call may be "not reached" in a faulted run (see test/faults/matrix.ts).
 */
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import worker from '../../src/index';

/**
 * How a call fails:
 * - `overloaded`: what the platform says under load: D1 `D1_ERROR: overloaded`, KV `429 Too Many Requests`
 *   (more than one write per second to a key), R2 `internal error (10001)`;
 * - `network`: `Network connection lost.` (any binding);
 * - `timeout`: the call hangs, then the runtime gives up. A promise that never settles would hold the test until
 *   workerd cancels the request, which proves nothing more; 30 ms then D1's "exceeded timeout" reset error (or a
 *   KV/R2 504) is the same path through our code, fast.
 * A failing call never reaches storage: a failing batch is the whole batch not applied (D1 runs a batch as one
 * transaction).
 */
export type FaultKind = 'overloaded' | 'network' | 'timeout';
export const FAULT_KINDS: FaultKind[] = ['overloaded', 'network', 'timeout'];

export interface Trace {
  /**
   * The calls seen so far in this request, each named by binding, method and what it touches, so a test can say
   * which failures are best effort: `D1.first SELECT clients`, `D1.batch(3) UPDATE refresh_tokens; INSERT
   * refresh_tokens; INSERT audit_events`, `KV.get client:`, `R2.put`.
   */
  calls: string[];
  /** The call that was made to fail, if the request reached it. */
  fired: string | null;
}

export interface FaultPlan {
  /** 1-based index of the storage call to fail; null fails none (counting run). */
  at: number | null;
  kind: FaultKind;
  /** Fail every call to these bindings instead (degraded-mode tests). */
  every?: ReadonlySet<'d1' | 'kv' | 'r2'>;
}

function faultError(binding: 'D1' | 'KV' | 'R2', method: string, kind: FaultKind): Error {
  if (kind === 'network') return new Error('Network connection lost.');
  if (binding === 'D1')
    return new Error(
      kind === 'overloaded'
        ? 'D1_ERROR: overloaded'
        : 'D1_ERROR: D1 DB storage operation exceeded timeout which caused object to be reset.',
    );
  if (binding === 'KV')
    return new Error(
      `KV ${method.toUpperCase()} failed: ${kind === 'overloaded' ? '429 Too Many Requests' : '504 Gateway Timeout'}`,
    );
  return new Error(
    `${method}: ${kind === 'overloaded' ? 'We encountered an internal error. Please try again. (10001)' : 'Gateway Timeout (10058)'}`,
  );
}

/** `SELECT clients`, `UPDATE refresh_tokens`, `WITH …` → the verb and the first table the statement names. */
export function describeSql(sql: string): string {
  const verb = /^\s*(\w+)/.exec(sql)?.[1]?.toUpperCase() ?? '?';
  const table = /\b(?:FROM|INTO|UPDATE|JOIN)\s+([a-z_]+)/i.exec(sql)?.[1] ?? '?';
  return `${verb} ${table}`;
}

/** A KV key's prefix (`client:`) or an R2 key's first segment, never the whole key (it may be a token hash). */
function keyPrefix(arg: unknown): string {
  // A bulk KV get (storage/stamped-copy.ts readStampedCopies) names several keys: ` [keyring:,revocations:]`.
  if (Array.isArray(arg)) return ` [${arg.map((k) => keyPrefix(k).trim()).join(',')}]`;
  if (typeof arg !== 'string') return '';
  const m = /^[^:/]*[:/]/.exec(arg);
  return ` ${m ? m[0] : arg.slice(0, 12)}`;
}

const D1_TERMINALS = new Set(['first', 'run', 'all', 'raw']);
const KV_CALLS = new Set(['get', 'getWithMetadata', 'put', 'delete', 'list']);
const R2_CALLS = new Set(['get', 'put', 'head', 'delete', 'list', 'createMultipartUpload', 'resumeMultipartUpload']);

/** An env whose DB, CACHE and FILES record their calls in `trace` and fail as `plan` says. */
export function faultyEnv(plan: FaultPlan, trace: Trace, base: Env = env): Env {
  const gate = <R>(binding: 'D1' | 'KV' | 'R2', label: string, method: string, run: () => R): R => {
    trace.calls.push(label);
    const everyHit = plan.every?.has(binding.toLowerCase() as 'd1' | 'kv' | 'r2');
    if (!everyHit && plan.at !== trace.calls.length) return run();
    trace.fired ??= label;
    const err = faultError(binding, method, plan.kind);
    if (plan.kind === 'timeout') return new Promise((_, reject) => setTimeout(() => reject(err), 30)) as R;
    return Promise.reject(err) as R;
  };
  const originals = new WeakMap<object, D1PreparedStatement>();
  const sqlOf = new WeakMap<object, string>();
  const statement = (stmt: D1PreparedStatement, what: string): D1PreparedStatement => {
    const proxy = new Proxy(stmt, {
      get(target, prop) {
        const value = Reflect.get(target, prop);
        if (typeof value !== 'function') return value;
        if (prop === 'bind') return (...args: unknown[]) => statement(value.apply(target, args), what);
        if (D1_TERMINALS.has(String(prop)))
          return (...args: unknown[]) =>
            gate('D1', `D1.${String(prop)} ${what}`, String(prop), () => value.apply(target, args));
        return value.bind(target);
      },
    });
    originals.set(proxy, stmt);
    sqlOf.set(proxy, what);
    return proxy;
  };
  const db = new Proxy(base.DB, {
    get(target, prop) {
      const value = Reflect.get(target, prop);
      if (typeof value !== 'function') return value;
      if (prop === 'prepare') return (sql: string) => statement(value.call(target, sql), describeSql(sql));
      if (prop === 'batch')
        return (stmts: D1PreparedStatement[]) =>
          gate('D1', `D1.batch(${stmts.length}) ${stmts.map((x) => sqlOf.get(x) ?? '?').join('; ')}`, 'batch', () =>
            value.call(
              target,
              stmts.map((s) => originals.get(s) ?? s),
            ),
          );
      if (prop === 'exec')
        return (...args: unknown[]) => gate('D1', 'D1.exec', 'exec', () => value.apply(target, args));
      return value.bind(target);
    },
  });
  const wrap = <T extends object>(binding: T, names: Set<string>, label: 'KV' | 'R2'): T =>
    new Proxy(binding, {
      get(target, prop) {
        const value = Reflect.get(target, prop);
        if (typeof value !== 'function') return value;
        if (!names.has(String(prop))) return value.bind(target);
        return (...args: unknown[]) =>
          gate(label, `${label}.${String(prop)}${keyPrefix(args[0])}`, String(prop), () => value.apply(target, args));
      },
    });
  const cache = wrap(base.CACHE, KV_CALLS, 'KV');
  const files = wrap(base.FILES, R2_CALLS, 'R2');
  return new Proxy(base, {
    get(target, prop) {
      if (prop === 'DB') return db;
      if (prop === 'CACHE') return cache;
      if (prop === 'FILES') return files;
      return Reflect.get(target, prop);
    },
  });
}

/** Sends one request through the Worker's fetch export with `plan` applied; returns the answer and the trace. */
export async function sendWithFaults(
  request: Request,
  plan: FaultPlan,
): Promise<{ res: Response; body: string; trace: Trace }> {
  const trace: Trace = { calls: [], fired: null };
  const ctx = createExecutionContext();
  const res = await worker.fetch!(
    request as Request<unknown, IncomingRequestCfProperties>,
    faultyEnv(plan, trace),
    ctx,
  );
  // Decoded by hand: Response.text() on an image makes workerd print a warning per call.
  const body = new TextDecoder().decode(await res.arrayBuffer());
  await waitOnExecutionContext(ctx);
  return { res, body, trace };
}

/** The same request with no fault (the counting run and the client's retry). */
export function sendClean(request: Request): Promise<{ res: Response; body: string; trace: Trace }> {
  return sendWithFaults(request, { at: null, kind: 'network' });
}

/**
 * Which k to try for an operation of `n` storage calls: all of them up to `max`, else the first two, the last two
 * and the middle (a sample; the calls in between are reads of the same kind as their neighbours).
 */
export function faultPoints(n: number, max = 8): number[] {
  if (n <= max) return Array.from({ length: n }, (_, i) => i + 1);
  return [...new Set([1, 2, Math.ceil(n / 2), n - 1, n])];
}
