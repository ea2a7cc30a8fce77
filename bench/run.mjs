#!/usr/bin/env node
// `npm run bench` / `npm run soak`: the product Worker, a ceiling no-op Worker, bare storage-read
// Worker and the workers-oauth-provider peer on one workerd (Miniflare's API), oidc-provider on Node, and
// autocannon in a separate process per scenario. Every figure is also given as a ratio to a baseline
// measured in the same run. Writes docs/benchmarks.md (its own section only).
//
// Every scenario runs BENCH_ROUNDS times, round after round in the order of bench/lib/scenarios.mjs, where the two
// sides of each target are neighbours: a target's ratio is the median of its per-round ratios, so the drift of a
// shared 2-core machine falls between rounds, not between the numerator and its baseline. Each measurement also
// records the server process's CPU time per request (/proc), which does not depend on how busy the machine is.
//
// Environment: BENCH_ROUNDS (default 5), BENCH_DURATION (s measured per scenario and round, default 3),
// BENCH_WARMUP (s before each measurement, default 1), BENCH_CONNECTIONS (default 10), BENCH_GROWTH_TOKENS (refresh tokens for the big growth stage,
// default 1000000; 0 skips growth), BENCH_ONLY (comma-separated scenario ids), SOAK_SECONDS (default 60),
// SOAK_MIX=stateless (soak without D1 writes), SOAK_MIX=ratelimit (soak that saturates the rate limiters),
// SOAK_MIX=faults (storage faults injected at SOAK_FAULT_RATE, default 0.05, of every D1/KV/R2 call),
// BENCH_RATELIMIT=off (the product without its rate-limit bindings).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeBenchReport } from './lib/bench-report.mjs';
import { buildWorker } from './lib/build.mjs';
import { growth } from './lib/growth.mjs';
import { fmt } from './lib/report.mjs';
import { machine, machineTicks, runRounds, stealPct } from './lib/rounds.mjs';
import { productBindings, productRateLimits, startRuntime, workerdPids } from './lib/runtime.mjs';
import { EDGE, MAIN } from './lib/scenarios.mjs';
import { BIG, basic, EDGE_ROUNDS, expectOk, log, REPORT, ROOT, SOAK } from './lib/settings.mjs';
import { productSecrets, seedProduct, seedWop, startOidc } from './lib/setup.mjs';
import { soak } from './lib/soak.mjs';
import { soakFaults } from './lib/soak-faults.mjs';
import { soakRateLimit } from './lib/soak-ratelimit.mjs';

async function main() {
  const startedAt = new Date().toISOString();
  const t0 = performance.now();
  const dir = mkdtempSync(join(tmpdir(), 'edge-oauth-bench-'));
  log(`building bundles in ${dir}`);
  const sizes = {
    product: buildWorker(ROOT, join(ROOT, 'wrangler.toml'), join(dir, 'product')),
    wop: buildWorker(ROOT, join(ROOT, 'bench/peers/workers-oauth-provider/wrangler.toml'), join(dir, 'wop')),
    signFloor: buildWorker(ROOT, join(ROOT, 'bench/baselines/sign-floor/wrangler.toml'), join(dir, 'sign-floor')),
    honoFloor: buildWorker(ROOT, join(ROOT, 'bench/baselines/hono-floor/wrangler.toml'), join(dir, 'hono-floor')),
    bench: buildWorker(ROOT, join(ROOT, 'bench/wrappers/product-bench/wrangler.toml'), join(dir, 'product-bench')),
  };
  log(`product bundle ${fmt(sizes.product.rawBytes)} B, ${fmt(sizes.product.gzipBytes)} B gzipped`);
  const { mf, stderrTail, errorLogs } = await startRuntime({
    productScript: sizes.product.script,
    wopScript: sizes.wop.script,
    ceilingScript: join(ROOT, 'bench/baselines/ceiling.js'),
    storageScript: join(ROOT, 'bench/baselines/storage-read.js'),
    signFloorScript: sizes.signFloor.script,
    honoFloorScript: sizes.honoFloor.script,
    benchScript: sizes.bench.script,
    persistDir: join(dir, 'persist'),
    bindings: productBindings(productSecrets()),
    ratelimits: productRateLimits(join(ROOT, 'wrangler.toml')),
  });
  let exitCode = 0;
  const oidc = startOidc();
  oidc.ready.catch(() => {}); // awaited below; an early exit must not become an unhandled rejection
  try {
    log(`workerd pid ${workerdPids().join(', ')}; seeding`);
    const { db, p } = await seedProduct(mf, dir);
    const imageKey = p.imageKey;
    // The kv_read baseline's own entry, with no expiry (issue 17: it read the client cache entry, whose 300 s TTL
    // ran out mid-run): the same JSON the client cache holds, under a key nothing else writes or expires.
    const clientJson = await (await mf.getKVNamespace('CACHE', 'product')).get(`client:${p.clientId}`);
    await (await mf.getKVNamespace('CACHE', 'product')).put('bench:kv-baseline', clientJson ?? '{"id":"cl_bench"}');
    const stored = await (await mf.getR2Bucket('FILES', 'product')).head(imageKey);
    if (stored?.size !== 20 * 1024)
      throw new Error(`seed: the uploaded image is not at ${imageKey} with 20 KB (${stored?.size})`);
    const w = await seedWop();
    w.refreshPoolFile = join(dir, 'wop-refresh-pool.json');
    writeFileSync(w.refreshPoolFile, JSON.stringify(w.refresh));
    await oidc.ready;
    const o = { basic: basic(oidc.clientId, oidc.secret) };
    const opaque = await expectOk(
      'oidc',
      {
        method: 'POST',
        path: '/token',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: o.basic },
        body: 'grant_type=client_credentials&scope=api&resource=urn%3Abench%3Aopaque',
      },
      'seed: oidc opaque token',
    );
    o.opaqueToken = opaque.json().access_token;
    const s = { product: p, wop: w, oidc: o, imageKey };

    if (SOAK) {
      // SOAK_MIX=ratelimit: traffic that saturates the rate limiters (issue 16, bench/lib/soak-ratelimit.mjs).
      // SOAK_MIX=faults: mixed traffic with storage faults injected by the bench wrapper (bench/lib/soak-faults.mjs).
      const run =
        process.env.SOAK_MIX === 'ratelimit' ? soakRateLimit : process.env.SOAK_MIX === 'faults' ? soakFaults : soak;
      exitCode = (await run(s, errorLogs)) ? 0 : 1;
      return;
    }
    // CPU time per request is read from the process that serves the scenario: workerd (which also hosts the local
    // D1, KV and R2 simulators), or oidc-provider's Node process.
    const [workerd] = workerdPids();
    s.pids = {
      product: workerd,
      productBig: workerd,
      ceiling: workerd,
      storage: workerd,
      wop: workerd,
      oidc: oidc.child.pid,
      signFloor: workerd,
      honoFloor: workerd,
      bench: workerd,
    };
    const results = {};
    const ticks0 = machineTicks();
    await runRounds(MAIN, s, s.pids, results);
    // Cold isolates and the latency model (issue 17): fewer rounds, they are read for round trips and latency.
    await runRounds(EDGE, s, s.pids, results, {}, EDGE_ROUNDS);
    const g = BIG > 0 ? await growth(mf, db, s, dir, results) : null;
    const m = { ...machine(), stealPct: stealPct(ticks0, machineTicks()) };
    writeBenchReport(m, sizes, results, g, startedAt, (performance.now() - t0) / 1000);
    log(`wrote ${REPORT}`);
  } catch (err) {
    console.error(err);
    console.error(`workerd stderr (tail):\n${stderrTail.join('')}`);
    exitCode = 1;
  } finally {
    oidc.child.kill('SIGTERM');
    await mf.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
  process.exit(exitCode);
}

await main();
