// The bench's settings (environment variables, see bench/run.mjs) and the small HTTP helpers every part uses.

import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HOST, PORTS } from './runtime.mjs';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const num = (v, d) => (v === undefined || v === '' ? d : Number(v));
export const SOAK = process.argv.includes('--soak');
export const ROUNDS = Math.max(1, num(process.env.BENCH_ROUNDS, 5));
/** Rounds of the cold-isolate and latency-model scenarios (default min(BENCH_ROUNDS, 3)). */
export const EDGE_ROUNDS = Math.max(1, num(process.env.BENCH_EDGE_ROUNDS, Math.min(ROUNDS, 3)));
export const DURATION = num(process.env.BENCH_DURATION, 3);
export const WARMUP = num(process.env.BENCH_WARMUP, 1);
export const CONNECTIONS = num(process.env.BENCH_CONNECTIONS, 10);
export const BIG = num(process.env.BENCH_GROWTH_TOKENS, 1_000_000);
export const ONLY = process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(',')) : null;
export const SOAK_SECONDS = num(process.env.SOAK_SECONDS, 60);
// Refresh chains: one starting token per connection, plus spares. A chain restarts from the pool when a
// rotation's response is lost (a reset connection, an error); the soak runs long enough to need many.
// The soak does not chain: every refresh takes a fresh token from a pool sized for its duration, so its
// result does not depend on autocannon handing each response to the right request (see docs/benchmarks.md).
export const POOL = SOAK ? Math.max(5000, 400 * SOAK_SECONDS) : (CONNECTIONS * 4 + 20) * ROUNDS * 2;
// Authorization codes are never chained (a code exchange does not return a code): one per request of the
// warm-up and the measured window, sized well above the fastest single-D1-batch rate seen here (~1,000/s).
export const CODE_POOL = SOAK ? 0 : Math.max(5000, 1500 * (DURATION + WARMUP) * ROUNDS); // the soak exchanges no code
export const REPORT = join(ROOT, 'docs/benchmarks.md');
export const log = (...a) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}]`, ...a);
export const base = (target) => `http://${HOST}:${PORTS[target]}`;
export const basic = (id, secret) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

export async function http(target, { method = 'GET', path, headers = {}, body }) {
  const res = await fetch(base(target) + path, { method, headers, body: body || undefined });
  const text = await res.text();
  return { status: res.status, text, json: () => JSON.parse(text) };
}

export async function expectOk(target, req, what) {
  const res = await http(target, req);
  if (res.status < 200 || res.status > 299) throw new Error(`${what}: ${res.status} ${res.text.slice(0, 300)}`);
  return res;
}
