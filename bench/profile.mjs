#!/usr/bin/env node
// Diagnostic (not part of `npm run bench`): loads the product Worker (and the ceiling no-op Worker) and reports,
// per scenario, req/s and the workerd process's CPU time per request (utime+stime from /proc, which stays
// comparable when other work shares the cores, unlike req/s). With PROFILE=1 it also CPU-profiles the product
// through workerd's inspector and prints the functions with the most self time.
// Usage: [PROFILE=1] [PROFILE_SECONDS=5] node bench/profile.mjs [ceiling|hono|jwks|me|cc|img|r2]...  (in that order; repeat
// a name to interleave it with another and see the drift). Ports 8794 (entry), 8795 (product), 8796 (ceiling),
// 8797 (storage baseline), 8793 (inspector).
// A/B: `PROFILE_AB=/path/to/other/tree [PROFILE_ROUNDS=4] node bench/profile.mjs cc …` builds the product of both
// trees (this one is A) and runs both in the same workerd process (B on port 8815, its own storage), measuring their
// windows alternately (A B, B A, …), one idle while the other is loaded. One process, because two processes showed a
// steady bias of their own (A against an identical A: 0.92, 6 of 8 pairs). A change is kept when B is cheaper in the
// median and in most pairs, and an A/A run of the same length shows no such difference.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Miniflare } from 'miniflare';
import WebSocket from 'ws';
import { buildWorker } from './lib/build.mjs';
import { runLoad } from './lib/load.mjs';
import { HOST, PORTS, productBindings, productRateLimits, workerdPids } from './lib/runtime.mjs';
import { applyMigrations, insertClient, randomToken } from './lib/seed.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const INSPECTOR = 8793;
const PROFILE = process.env.PROFILE === '1';
const SECONDS = Number(process.env.PROFILE_SECONDS ?? 5);
const AB = process.env.PROFILE_AB;
const ROUNDS = Number(process.env.PROFILE_ROUNDS ?? 4);
const CLK = 100; // USER_HZ

/**
 * One workerd process with the product of each of `roots` (the first on PORTS.product, a second on PORTS.product + 20,
 * each with its own storage), the storage baseline, the ceiling and the Hono floor, seeded.
 */
async function start(roots, inspect) {
  const dir = mkdtempSync(join(tmpdir(), 'edge-oauth-profile-'));
  const hono = buildWorker(ROOT, join(ROOT, 'bench/baselines/hono-floor/wrangler.toml'), join(dir, 'hono-floor'));
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const secrets = {
    SIGNING_KEYS: JSON.stringify({ keys: [{ ...privateKey.export({ format: 'jwk' }), kid: 'p', alg: 'ES256' }] }),
    KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64url'),
  };
  const products = roots.map((root, i) => {
    const suffix = i === 0 ? '' : '-b';
    const { script } = buildWorker(root, join(root, 'wrangler.toml'), join(dir, `product${suffix}`));
    return {
      name: i === 0 ? 'product' : 'product_b',
      port: PORTS.product + 20 * i,
      worker: {
        name: i === 0 ? 'product' : 'product_b',
        modules: true,
        scriptPath: script,
        modulesRoot: join(dir, `product${suffix}`),
        compatibilityDate: '2026-04-01',
        compatibilityFlags: ['nodejs_compat'],
        bindings: {
          ...productBindings(secrets),
          ...(process.env.PROFILE_VARS ? JSON.parse(process.env.PROFILE_VARS) : {}),
        },
        // The bench's rate limiters (out of reach, as in `npm run bench`; BENCH_RATELIMIT=off leaves them out).
        ratelimits: productRateLimits(join(root, 'wrangler.toml')),
        d1Databases: { DB: `p-db${suffix}` },
        kvNamespaces: { CACHE: `p-cache${suffix}` },
        r2Buckets: { FILES: `p-files${suffix}` },
        unsafeDirectSockets: [{ host: HOST, port: PORTS.product + 20 * i }],
      },
      root,
    };
  });
  const before = new Set(workerdPids());
  const mf = new Miniflare({
    host: HOST,
    port: PORTS.entry,
    ...(inspect ? { inspectorPort: INSPECTOR } : {}),
    defaultPersistRoot: join(dir, 'persist'),
    handleRuntimeStdio(stdout, stderr) {
      stdout.resume();
      stderr.resume();
    },
    workers: [
      ...products.map((p) => p.worker),
      {
        name: 'storage',
        modules: true,
        scriptPath: join(ROOT, 'bench/baselines/storage-read.js'),
        modulesRoot: join(ROOT, 'bench/baselines'),
        compatibilityDate: '2026-04-01',
        compatibilityFlags: ['nodejs_compat'],
        d1Databases: { DB: 'p-db' },
        kvNamespaces: { CACHE: 'p-cache' },
        r2Buckets: { FILES: 'p-files' },
        unsafeDirectSockets: [{ host: HOST, port: PORTS.storage }],
      },
      {
        name: 'ceiling',
        modules: true,
        scriptPath: join(ROOT, 'bench/baselines/ceiling.js'),
        modulesRoot: join(ROOT, 'bench/baselines'),
        compatibilityDate: '2026-04-01',
        compatibilityFlags: ['nodejs_compat'],
        unsafeDirectSockets: [{ host: HOST, port: PORTS.ceiling }],
      },
      {
        name: 'hono_floor',
        modules: true,
        scriptPath: hono.script,
        modulesRoot: join(dir, 'hono-floor'),
        compatibilityDate: '2026-04-01',
        compatibilityFlags: ['nodejs_compat'],
        unsafeDirectSockets: [{ host: HOST, port: PORTS.honoFloor }],
      },
    ],
  });
  await mf.ready;
  const pid = workerdPids().find((p) => !before.has(p));
  for (const p of products) p.REQ = await seed(mf, p);
  const cpuMs = () => {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / CLK;
  };
  const urlOf = (name, p) =>
    name === 'ceiling' || name === 'hono'
      ? `http://${HOST}:${name === 'hono' ? PORTS.honoFloor : PORTS.ceiling}`
      : name === 'r2'
        ? `http://${HOST}:${PORTS.storage}`
        : `http://${HOST}:${p.port}`;
  /** One measured window of `name` on product `i` (after a 2 s warm-up when `warm`): req/s and CPU µs per request. */
  async function measure(name, i = 0, warm = true) {
    const p = products[i];
    const spec = { url: urlOf(name, p), connections: 10, warmupSeconds: 0, requests: [p.REQ[name]] };
    if (warm) await runLoad({ ...spec, durationSeconds: 2 });
    const c0 = cpuMs();
    const r = await runLoad({ ...spec, durationSeconds: SECONDS });
    const c1 = cpuMs();
    return { rps: r.rps, cpu: ((c1 - c0) * 1000) / r.total, errors: r.non2xx + r.errors + r.timeouts };
  }
  async function stop() {
    await mf.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
  return { url: `http://${HOST}:${products[0].port}`, REQ: products[0].REQ, measure, stop };
}

/** Migrations, a client, an uploaded image and tokens in one product's storage; returns the scenarios' requests. */
async function seed(mf, p) {
  const db = await mf.getD1Database('DB', p.name);
  await applyMigrations(db, join(p.root, 'migrations'));
  const secret = randomToken(32);
  await insertClient(db, {
    id: 'cl_p',
    secret,
    grantTypes: ['client_credentials'],
    scopes: ['base', 'files', 'upload_files'],
  });
  const basic = `Basic ${Buffer.from(`cl_p:${secret}`).toString('base64')}`;
  const url = `http://${HOST}:${p.port}`;
  const form = { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: basic };
  const tokenFor = async (scope) =>
    (
      await (
        await fetch(`${url}/oauth2/token`, {
          method: 'POST',
          headers: form,
          body: `grant_type=client_credentials${scope ? `&scope=${scope}` : ''}`,
        })
      ).json()
    ).access_token;
  // The image scenario: a 20 KB PNG uploaded through the product, read with a files token; r2 reads the same object.
  const png = randomBytes(20 * 1024);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(png);
  const put = await fetch(`${url}/v1/img/p.png`, {
    method: 'PUT',
    headers: { Authorization: `Bearer ${await tokenFor('upload_files')}`, 'Content-Type': 'image/png' },
    body: png,
  });
  if (!put.ok) throw new Error(`image upload: ${put.status} ${await put.text()}`);
  return {
    img: { method: 'GET', path: `/v1/img/p.png?access_token=${await tokenFor('files')}`, headers: {} },
    r2: { method: 'GET', path: '/r2/c/cl_p/p.png', headers: {} },
    jwks: { method: 'GET', path: '/.well-known/jwks.json', headers: {} },
    hono: { method: 'GET', path: '/.well-known/jwks.json', headers: {} },
    me: { method: 'GET', path: '/v1/me', headers: { Authorization: `Bearer ${await tokenFor('')}` } },
    cc: { method: 'POST', path: '/oauth2/token', headers: form, body: 'grant_type=client_credentials' },
    ceiling: { method: 'GET', path: '/', headers: {} },
  };
}

const line = (label, m) =>
  `${label.padEnd(10)} ${m.rps.toFixed(0).padStart(6)} req/s  workerd CPU ${m.cpu.toFixed(0).padStart(4)} µs/request  errors ${m.errors}`;
const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];

const names = process.argv.slice(2).length ? process.argv.slice(2) : ['ceiling', 'jwks', 'me', 'cc'];
const a = await start(AB ? [ROOT, AB] : [ROOT], PROFILE && !AB);
if (AB) {
  for (const name of names) {
    await a.measure(name, 0);
    await a.measure(name, 1);
    const pairs = [];
    for (let i = 0; i < ROUNDS; i++) {
      // Alternate which goes first, so neither side always follows the other.
      const [ma, mb] =
        i % 2 === 0
          ? [await a.measure(name, 0, false), await a.measure(name, 1, false)]
          : [await a.measure(name, 1, false), await a.measure(name, 0, false)].reverse();
      pairs.push([ma.cpu, mb.cpu]);
      console.log(`${line(`${name} A`, ma)}   |   ${line('B', mb)}`);
    }
    const wins = pairs.filter(([x, y]) => y < x).length;
    const ma = median(pairs.map((p) => p[0]));
    const mb = median(pairs.map((p) => p[1]));
    console.log(
      `${name}: median CPU A ${ma.toFixed(0)} µs, B ${mb.toFixed(0)} µs (B ÷ A ${(mb / ma).toFixed(3)}); B cheaper in ${wins} of ${ROUNDS} pairs`,
    );
  }
  await a.stop();
  process.exit(0);
}
if (!PROFILE) {
  for (const name of names) console.log(line(name, await a.measure(name)));
  await a.stop();
  process.exit(0);
}

const targets = await (await fetch(`http://127.0.0.1:${INSPECTOR}/json/list`)).json();
const target = targets.find((t) => t.title?.includes('product') || t.id?.includes('product')) ?? targets[0];
const ws = new WebSocket(target.webSocketDebuggerUrl);
await new Promise((r) => ws.once('open', r));
let id = 0;
const pending = new Map();
ws.on('message', (m) => {
  const msg = JSON.parse(String(m));
  if (msg.id && pending.has(msg.id)) pending.get(msg.id)(msg.result);
});
const send = (method, params = {}) =>
  new Promise((resolve) => {
    const i = ++id;
    pending.set(i, resolve);
    ws.send(JSON.stringify({ id: i, method, params }));
  });
await send('Profiler.enable');
await send('Profiler.setSamplingInterval', { interval: 200 });

for (const name of names) {
  await runLoad({ url: a.url, connections: 10, warmupSeconds: 0, durationSeconds: 2, requests: [a.REQ[name]] }); // warm
  await send('Profiler.start');
  const r = await runLoad({
    url: a.url,
    connections: 10,
    warmupSeconds: 0,
    durationSeconds: SECONDS,
    requests: [a.REQ[name]],
  });
  const { profile } = await send('Profiler.stop');
  const self = new Map();
  const dt = profile.timeDeltas.reduce((a, b) => a + b, 0) / profile.samples.length;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const counts = new Map();
  for (const s of profile.samples) counts.set(s, (counts.get(s) ?? 0) + 1);
  let total = 0;
  for (const [nid, n] of counts) {
    const cf = byId.get(nid).callFrame;
    const key = `${cf.functionName || '(anon)'} ${cf.url.split('/').pop()}:${cf.lineNumber}`;
    self.set(key, (self.get(key) ?? 0) + n);
    total += n;
  }
  const idle = [...self].filter(([k]) => k.startsWith('(idle)')).reduce((a, [, v]) => a + v, 0);
  console.log(
    `\n== ${name}: ${r.rps.toFixed(0)} req/s; ${total} samples (~${dt.toFixed(0)} µs), idle ${((idle / total) * 100).toFixed(1)} %`,
  );
  for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 25))
    console.log(`${((v / total) * 100).toFixed(1).padStart(5)} %  ${k}`);
  // Inclusive ("total") time: a sample counts once for every distinct function on its stack.
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const incl = new Map();
  for (const [nid, n] of counts) {
    const seen = new Set();
    for (let cur = nid; cur !== undefined; cur = parent.get(cur)) {
      const cf = byId.get(cur).callFrame;
      const key = `${cf.functionName || '(anon)'} ${cf.url.split('/').pop()}:${cf.lineNumber}`;
      if (seen.has(key)) continue;
      seen.add(key);
      incl.set(key, (incl.get(key) ?? 0) + n);
    }
  }
  console.log(`-- inclusive`);
  for (const [k, v] of [...incl]
    .filter(([k]) => !k.startsWith('('))
    .sort((a, b) => b[1] - a[1])
    .slice(0, 30))
    console.log(`${((v / total) * 100).toFixed(1).padStart(5)} %  ${k}`);
}
ws.close();
await a.stop();
