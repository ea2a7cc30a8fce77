/**
 * The fault matrix driver (issue 16, docs/fault-matrix.md). For one operation:
 * 1. a counting run on fresh state (no fault) gives n, the number of storage calls of the request, and its trace;
 * 2. for each k in `faultPoints(n)` and each kind tried at k (see `kindsAt`), on fresh state, call k fails and the
 *    answer must be the 503 of src/storage/unavailable.ts (Retry-After, the body type of the surface) — or, when the
 *    failing call is one the operation declares best effort, the operation's success; never a 500 or a stack trace;
 * 3. the operation's `consistent` check reads the tables (nothing half-written), and no audit row carries the
 *    failed request's id unless the action really happened;
 * 4. the same request is sent again with no fault: it must succeed (or the operation's `retry` says what else is
 *    acceptable and why the client can act on it).
 * Every case counts in `tally`; each file prints and asserts its figure.
 */
import { env } from 'cloudflare:workers';
import { expect } from 'vitest';
import { FAULT_KINDS, type FaultKind, faultPoints, sendClean, sendWithFaults, type Trace } from './harness';

export interface Outcome {
  res: Response;
  body: string;
  trace: Trace;
}

/** The kind of answer the surface gives: RFC 6749 §5.2 JSON, an HTML page, or a protected resource's 503. */
export type Surface = 'json' | 'page' | 'resource';

export interface Operation<S> {
  name: string;
  surface: Surface;
  /** Fresh state for one case (a fresh client, user, code, refresh token...). */
  setup(): Promise<S>;
  /** The request (built anew for each send: a body is read once). */
  request(s: S): Request;
  /** Asserts the answer of a successful request. */
  ok(out: Outcome, s: S): void | Promise<void>;
  /**
   * The calls whose failure the product absorbs (a KV cache read or write, a last-used stamp after the response):
   * a failure of a call whose trace label matches one of these must still succeed. Explicit per operation.
   */
  bestEffort?: RegExp[];
  /** After the failure (or the absorbed one): nothing half-written. `failed` is the faulted outcome. */
  consistent?(s: S, failed: Outcome): Promise<void>;
  /** Whether the action took effect (for the audit check); default: it did not when the answer was a 503. */
  happened?(s: S): Promise<boolean>;
  /** The retry with no fault; default: the same request must succeed (`ok`). */
  retry?(s: S, failed: Outcome): Promise<void>;
  /** Largest number of fault points before sampling (faultPoints' `max`). */
  maxPoints?: number;
}

/**
 * Calls every operation absorbs: the stamped KV copies of the key ring and the deny-list (src/storage/stamped-copy.ts,
 * issue 17). A failed read is a miss (D1 is read instead), a failed write or drop a warning (the copy's stamp bounds
 * what stays behind), so a fault there must leave the operation's answer unchanged.
 */
/** The client-record cache (src/storage/clients.ts): a failed read falls back to D1, a failed fill warns. */
export const CLIENT_CACHE = [/^KV\.(get|put) client:/];

export const ALWAYS_BEST_EFFORT: RegExp[] = [/^KV\.(get|put|delete) \[?(keyring|revocations):/];

export interface Tally {
  operations: Set<string>;
  tried: number;
  held: number;
  absorbed: number;
  notReached: number;
  failures: string[];
}

export function newTally(): Tally {
  return { operations: new Set(), tried: 0, held: 0, absorbed: 0, notReached: 0, failures: [] };
}

/**
 * Which kinds are tried at the i-th of `count` fault points: all three everywhere (`npx vitest run test/faults`
 * takes about 30 s on a 2-core machine). The three kinds take the same path through the product (a rejected promise now, or 30 ms
 * later), so if the matrix ever outgrows CI's time, trying all three only at the first and last point and one in
 * turn between (`ROTATE_KINDS`) keeps every kind covered for every operation at a third of the cost.
 */
const ROTATE_KINDS = false;
export function kindsAt(i: number, count: number): FaultKind[] {
  if (!ROTATE_KINDS || i === 0 || i === count - 1) return FAULT_KINDS;
  return [FAULT_KINDS[i % FAULT_KINDS.length]];
}

const STACK = /\bat [\w$.<>]+ \(|\n\s+at |Error: |D1_ERROR|Network connection lost|\.ts:\d+/;

/** The 503 of src/storage/unavailable.ts for the surface, with Retry-After and no stack trace. */
export function expectUnavailable(out: Outcome, surface: Surface, where: string): void {
  expect(out.res.status, `${where}: ${out.body.slice(0, 300)}`).toBe(503);
  expect(out.res.headers.get('Retry-After'), where).toBe('2');
  expect(out.body, where).not.toMatch(STACK);
  if (surface === 'page') {
    expect(out.res.headers.get('Content-Type'), where).toMatch(/^text\/html/);
    expect(out.body, where).toMatch(/^<!DOCTYPE html>/);
    expect(out.body, where).toContain('Briefly unavailable');
    return;
  }
  expect(out.res.headers.get('Content-Type'), where).toMatch(/^application\/json/);
  const body = JSON.parse(out.body) as { error?: string };
  expect(body.error, where).toBe('temporarily_unavailable');
  // unavailable.ts: on protected resources no WWW-Authenticate (it would blame the client's token).
  if (surface === 'resource') expect(out.res.headers.get('WWW-Authenticate'), where).toBeNull();
}

/** Audit rows written under the request id of `out` (the product stamps X-Request-Id on every answer). */
export async function auditRowsOf(out: Outcome): Promise<number> {
  const id = out.res.headers.get('X-Request-Id');
  if (!id) return 0;
  const row = await env.DB.prepare('SELECT COUNT(*) AS n FROM audit_events WHERE request_id = ?1')
    .bind(id)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

/** Runs the whole matrix of one operation, recording every case in `tally`; throws at the end if any case failed. */
export async function runOperation<S>(op: Operation<S>, tally: Tally): Promise<{ n: number; calls: string[] }> {
  tally.operations.add(op.name);
  const counting = await op.setup();
  const clean = await sendClean(op.request(counting));
  await op.ok(clean, counting);
  const n = clean.trace.calls.length;
  expect(n, `${op.name}: the counting run made no storage call`).toBeGreaterThan(0);
  const points = faultPoints(n, op.maxPoints);
  const failures: string[] = [];
  for (const [i, k] of points.entries()) {
    for (const kind of kindsAt(i, points.length)) {
      const where = `${op.name} k=${k}/${n} (${clean.trace.calls[k - 1]}) ${kind}`;
      tally.tried++;
      try {
        await runCase(op, k, kind, where, tally);
        tally.held++;
      } catch (err) {
        tally.failures.push(where);
        failures.push(`${where}: ${String(err).slice(0, 600)}`);
      }
    }
  }
  // Every case of the operation runs, so one run shows all that failed.
  if (failures.length) throw new Error(`${failures.length} case(s) failed:\n${failures.join('\n')}`);
  console.log(`${op.name}: n=${n} points=${points.join(',')} calls=${JSON.stringify(clean.trace.calls)}`);
  return { n, calls: clean.trace.calls };
}

async function runCase<S>(op: Operation<S>, k: number, kind: FaultKind, where: string, tally: Tally): Promise<void> {
  const s = await op.setup();
  const failed = await sendWithFaults(op.request(s), { at: k, kind });
  const fired = failed.trace.fired;
  where = `${where} fired=${fired ?? 'none'}`;
  expect(failed.res.status, `${where}: ${failed.body.slice(0, 300)}`).not.toBe(500);
  expect(failed.body, where).not.toMatch(STACK);
  const absorbed = fired === null || [...ALWAYS_BEST_EFFORT, ...(op.bestEffort ?? [])].some((re) => re.test(fired));
  if (absorbed) {
    // Not reached (this run made fewer calls: a per-isolate cache was warm) or a best-effort call: a success.
    if (fired === null) tally.notReached++;
    else tally.absorbed++;
    await op.ok(failed, s);
    await op.consistent?.(s, failed);
    return;
  }
  if (failed.res.status !== 503) {
    // A failure must never pass silently as a success: say which call it was so the test can declare it.
    throw new Error(`${where}: expected 503, got ${failed.res.status}: ${failed.body.slice(0, 300)}`);
  }
  expectUnavailable(failed, op.surface, where);
  await op.consistent?.(s, failed);
  if ((await auditRowsOf(failed)) > 0) {
    expect(op.happened ? await op.happened(s) : false, `${where}: an audit row is the only trace of the action`).toBe(
      true,
    );
  }
  if (op.retry) await op.retry(s, failed);
  else {
    const again = await sendClean(op.request(s));
    try {
      await op.ok(again, s);
    } catch (err) {
      throw new Error(`${where}: the retry failed: ${again.res.status} ${again.body.slice(0, 300)}: ${err}`);
    }
  }
}

/** The figure of one file: operations × fault points × kinds tried, and how many held. */
export function report(label: string, tally: Tally): string {
  const line =
    `fault matrix (${label}): ${tally.operations.size} operations, ${tally.tried} cases tried ` +
    `(operation × fault point × kind), ${tally.held} held ` +
    `(${tally.absorbed} absorbed best-effort calls, ${tally.notReached} not reached)` +
    (tally.failures.length ? `; failed: ${tally.failures.join(', ')}` : '');
  console.log(line);
  return line;
}
