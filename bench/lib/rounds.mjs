// Measuring: one scenario in one round (autocannon in a child process, the server's CPU time from /proc), the
// rounds of a list of scenarios combined into medians, per-round target ratios, and the machine's description.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, freemem, totalmem } from 'node:os';
import { runLoad } from './load.mjs';
import { fmt } from './report.mjs';
import { base, CONNECTIONS, DURATION, http, log, ONLY, ROUNDS, WARMUP } from './settings.mjs';

/** How many entries of each pool file earlier runs took: a later run of the same scenario starts after them. */
export const poolTaken = new Map();

/** The machine's CPU time so far (ticks of /proc/stat's first line): all of it, and what the hypervisor stole. */
export function machineTicks() {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    return { total: f.reduce((a, b) => a + b, 0), steal: f[7] ?? 0 };
  } catch {
    return null;
  }
}

/** Share of the machine's CPU time the hypervisor gave to other guests between two machineTicks() readings, %. */
export function stealPct(a, b) {
  return a && b && b.total > a.total ? ((b.steal - a.steal) / (b.total - a.total)) * 100 : undefined;
}

/** CPU time (user + system, ms) of a process so far, from /proc/<pid>/stat; null if unreadable. */
export function cpuMs(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // utime, stime in USER_HZ (100 on Linux)
  } catch {
    return null;
  }
}

/** One measurement of one scenario: a warm-up run, then the measured run, with the server's CPU time around it. */
export async function runScenario(sc, s, pids) {
  if (sc.todo) return { todo: sc.todo };
  const req = sc.request(s);
  const chainSpec = sc.chain?.(s);
  const chain = () => chainSpec && { ...chainSpec, poolStart: poolTaken.get(chainSpec.poolFile) ?? 0 };
  const took = (r) =>
    chainSpec && poolTaken.set(chainSpec.poolFile, (poolTaken.get(chainSpec.poolFile) ?? 0) + r.poolUsed);
  if (!chainSpec) {
    const check = await http(sc.target, req);
    if (check.status < 200 || check.status > 299) return { failed: `${check.status} ${check.text.slice(0, 200)}` };
  }
  const spec = (durationSeconds) => ({
    url: base(sc.target),
    connections: CONNECTIONS,
    warmupSeconds: 0,
    durationSeconds,
    requests: [{ ...req, useChain: Boolean(chainSpec) }],
    chain: chain(),
  });
  if (WARMUP > 0) took(await runLoad(spec(WARMUP)));
  const pid = pids[sc.target];
  // Round trips per request, from the wrapper's counters (bench/wrappers/product-bench/index.ts) around the window.
  const counts = async () => (sc.roundTrips ? (await http(sc.target, { path: '/__bench/counts' })).json() : null);
  const c0 = await counts();
  const cpu0 = cpuMs(pid);
  const m0 = machineTicks();
  const r = await runLoad(spec(DURATION));
  const cpu1 = cpuMs(pid);
  const c1 = await counts();
  if (c0 && c1 && c1.requests > c0.requests) {
    const n = c1.requests - c0.requests;
    const calls = (k) => (c1[k] ?? 0) - (c0[k] ?? 0);
    // Per request, and the window's absolute calls (a stamped copy's refresh is one call per period, not per request).
    r.trips = {
      requests: n,
      d1Calls: calls('d1'),
      d1: calls('d1') / n,
      kv: calls('kv') / n,
      kvWrites: calls('kvWrites') / n,
      r2: calls('r2') / n,
    };
  }
  r.stealPct = stealPct(m0, machineTicks());
  took(r);
  r.cpuUs = cpu0 !== null && cpu1 !== null && r.total > 0 ? ((cpu1 - cpu0) * 1000) / r.total : undefined;
  log(
    `${sc.id.padEnd(18)} ${fmt(r.rps).padStart(7)} req/s  p50 ${r.p50} ms  p99 ${r.p99} ms  CPU ${fmt(r.cpuUs)} µs/req  steal ${fmt(r.stealPct)} %  errors ${r.non2xx + r.errors + r.timeouts}` +
      (chainSpec ? `  pool entries taken: ${r.poolUsed}` : '') +
      (r.trips
        ? `  per req: D1 ${fmt(r.trips.d1, 3)} (${r.trips.d1Calls} calls) KV ${fmt(r.trips.kv, 3)} + ${fmt(r.trips.kvWrites, 3)} writes R2 ${fmt(r.trips.r2, 2)}`
        : ''),
  );
  return r;
}

export const median = (xs) => {
  const v = xs.filter((x) => x !== undefined && !Number.isNaN(x)).sort((a, b) => a - b);
  if (v.length === 0) return undefined;
  return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
};

/** A scenario's rounds as one row: medians of req/s, latency and CPU; errors summed over every round. */
export function combine(rounds) {
  const bad = rounds.find((r) => r.todo || r.failed);
  if (bad) return bad;
  const sum = (f) => rounds.reduce((a, r) => a + f(r), 0);
  return {
    rounds,
    rps: median(rounds.map((r) => r.rps)),
    p50: median(rounds.map((r) => r.p50)),
    p99: median(rounds.map((r) => r.p99)),
    cpuUs: median(rounds.map((r) => r.cpuUs)),
    trips: rounds[0].trips && {
      d1: median(rounds.map((r) => r.trips?.d1)),
      kv: median(rounds.map((r) => r.trips?.kv)),
      kvWrites: median(rounds.map((r) => r.trips?.kvWrites)),
      r2: median(rounds.map((r) => r.trips?.r2)),
      // The worst window, for the round-trip targets.
      maxD1Calls: Math.max(...rounds.map((r) => r.trips?.d1Calls ?? 0)),
      maxKv: Math.max(...rounds.map((r) => r.trips?.kv ?? 0)),
      requests: rounds.reduce((a, r) => a + (r.trips?.requests ?? 0), 0),
      d1Calls: rounds.reduce((a, r) => a + (r.trips?.d1Calls ?? 0), 0),
    },
    non2xx: sum((r) => r.non2xx),
    errors: sum((r) => r.errors),
    timeouts: sum((r) => r.timeouts),
  };
}

/** Runs `scenarios` ROUNDS times, round after round, and combines each scenario's rounds into `results`. */
export async function runRounds(scenarios, s, pids, results, extra = {}, count = ROUNDS) {
  const rounds = new Map();
  for (let i = 0; i < count; i++) {
    if (count > 1) log(`round ${i + 1} of ${count}`);
    for (const sc of scenarios) {
      if (ONLY && !ONLY.has(sc.id)) continue;
      const done = rounds.get(sc.id) ?? [];
      if (done.some((r) => r.todo || r.failed)) continue;
      done.push(await runScenario(sc, s, pids));
      rounds.set(sc.id, done);
    }
  }
  for (const [id, rs] of rounds) results[id] = { ...combine(rs), ...extra };
}

/** A target's ratio: the median of its per-round ratios (numerator and denominator of the same round). */
export function targetRatio(n, d) {
  if (!n?.rounds || !d?.rounds) return null;
  const per = n.rounds
    .map((r, i) => (d.rounds[i]?.rps ? r.rps / d.rounds[i].rps : undefined))
    .filter((x) => x !== undefined);
  // By CPU time (issue 17: the verdict): the denominator's CPU µs/req ÷ the numerator's, per round, then the median.
  const cpuPer = n.rounds
    .map((r, i) => (r.cpuUs && d.rounds[i]?.cpuUs ? d.rounds[i].cpuUs / r.cpuUs : undefined))
    .filter((x) => x !== undefined);
  const cpu = median(cpuPer);
  return {
    ratio: median(per),
    min: Math.min(...per),
    max: Math.max(...per),
    per,
    cpu,
    cpuMin: Math.min(...cpuPer),
    cpuMax: Math.max(...cpuPer),
    cpuPer,
  };
}

export function machine() {
  const require = createRequire(import.meta.url);
  const version = (pkg, from) =>
    JSON.parse(readFileSync(createRequire(from).resolve(`${pkg}/package.json`), 'utf8')).version;
  const miniflareMain = require.resolve('miniflare');
  return {
    nproc: cpus().length,
    cpu: cpus()[0]?.model ?? 'unknown',
    memGiB: (totalmem() / 2 ** 30).toFixed(1),
    freeGiB: (freemem() / 2 ** 30).toFixed(1),
    node: process.version,
    miniflare: version('miniflare', import.meta.url),
    workerd: version('workerd', miniflareMain),
    wrangler: version('wrangler', import.meta.url),
    autocannon: version('autocannon', import.meta.url),
    wop: version('@cloudflare/workers-oauth-provider', import.meta.url),
    oidc: version('oidc-provider', import.meta.url),
  };
}
