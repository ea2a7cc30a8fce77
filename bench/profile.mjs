#!/usr/bin/env node
// Diagnostic (not part of `npm run bench`): loads the product Worker (and the ceiling no-op Worker) and reports,
// per scenario, req/s and the workerd process's CPU time per request (utime+stime from /proc, which stays
// comparable when other work shares the cores, unlike req/s). With PROFILE=1 it also CPU-profiles the product
// through workerd's inspector and prints the functions with the most self time.
// Usage: [PROFILE=1] [PROFILE_SECONDS=5] node bench/profile.mjs [ceiling|jwks|me|cc|img|r2]...  (in that order; repeat
// a name to interleave it with another and see the drift). Ports 8794 (entry), 8795 (product), 8796 (ceiling),
// 8797 (storage baseline), 8793 (inspector).
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Miniflare } from 'miniflare';
import WebSocket from 'ws';
import { buildWorker } from './lib/build.mjs';
import { runLoad } from './lib/load.mjs';
import { HOST, PORTS, productBindings, workerdPids } from './lib/runtime.mjs';
import { applyMigrations, insertClient, randomToken } from './lib/seed.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const INSPECTOR = 8793;
const PROFILE = process.env.PROFILE === '1';
const SECONDS = Number(process.env.PROFILE_SECONDS ?? 5);
const dir = mkdtempSync(join(tmpdir(), 'edge-oauth-profile-'));
const { script } = buildWorker(ROOT, join(ROOT, 'wrangler.toml'), join(dir, 'product'));
const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const secrets = {
  SIGNING_KEYS: JSON.stringify({ keys: [{ ...privateKey.export({ format: 'jwk' }), kid: 'p', alg: 'ES256' }] }),
  KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64url'),
};
const mf = new Miniflare({
  host: HOST,
  port: PORTS.entry,
  ...(PROFILE ? { inspectorPort: INSPECTOR } : {}),
  defaultPersistRoot: join(dir, 'persist'),
  handleRuntimeStdio(stdout, stderr) {
    stdout.resume();
    stderr.resume();
  },
  workers: [
    {
      name: 'product',
      modules: true,
      scriptPath: script,
      modulesRoot: join(dir, 'product'),
      compatibilityDate: '2026-04-01',
      compatibilityFlags: ['nodejs_compat'],
      bindings: {
        ...productBindings(secrets),
        ...(process.env.PROFILE_VARS ? JSON.parse(process.env.PROFILE_VARS) : {}),
      },
      d1Databases: { DB: 'p-db' },
      kvNamespaces: { CACHE: 'p-cache' },
      r2Buckets: { FILES: 'p-files' },
      unsafeDirectSockets: [{ host: HOST, port: PORTS.product }],
    },
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
  ],
});
await mf.ready;
const db = await mf.getD1Database('DB', 'product');
await applyMigrations(db, join(ROOT, 'migrations'));
const secret = randomToken(32);
await insertClient(db, {
  id: 'cl_p',
  secret,
  grantTypes: ['client_credentials'],
  scopes: ['base', 'files', 'upload_files'],
});
const basic = `Basic ${Buffer.from(`cl_p:${secret}`).toString('base64')}`;
const url = `http://${HOST}:${PORTS.product}`;
const form = { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: basic };
const tok = await (
  await fetch(`${url}/oauth2/token`, { method: 'POST', headers: form, body: 'grant_type=client_credentials' })
).json();
const tokenFor = async (scope) =>
  (
    await (
      await fetch(`${url}/oauth2/token`, {
        method: 'POST',
        headers: form,
        body: `grant_type=client_credentials&scope=${scope}`,
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
const filesToken = await tokenFor('files');
const REQ = {
  img: { method: 'GET', path: `/v1/img/p.png?access_token=${filesToken}`, headers: {} },
  r2: { method: 'GET', path: '/r2/c/cl_p/p.png', headers: {} },
  jwks: { method: 'GET', path: '/.well-known/jwks.json', headers: {} },
  me: { method: 'GET', path: '/v1/me', headers: { Authorization: `Bearer ${tok.access_token}` } },
  cc: { method: 'POST', path: '/oauth2/token', headers: form, body: 'grant_type=client_credentials' },
  ceiling: { method: 'GET', path: '/', headers: {} },
};
const [pid] = workerdPids();
const CLK = 100; // USER_HZ
const cpuMs = () => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8')
    .slice(readFileSync(`/proc/${pid}/stat`, 'utf8').lastIndexOf(')') + 2)
    .split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / CLK;
};
const names = process.argv.slice(2).length ? process.argv.slice(2) : ['ceiling', 'jwks', 'me', 'cc'];
if (!PROFILE) {
  for (const name of names) {
    const u =
      name === 'ceiling' ? `http://${HOST}:${PORTS.ceiling}` : name === 'r2' ? `http://${HOST}:${PORTS.storage}` : url;
    await runLoad({ url: u, connections: 10, warmupSeconds: 0, durationSeconds: 2, requests: [REQ[name]] });
    const c0 = cpuMs();
    const r = await runLoad({
      url: u,
      connections: 10,
      warmupSeconds: 0,
      durationSeconds: SECONDS,
      requests: [REQ[name]],
    });
    const c1 = cpuMs();
    console.log(
      `${name.padEnd(8)} ${r.rps.toFixed(0).padStart(6)} req/s  workerd CPU ${(((c1 - c0) * 1000) / r.total).toFixed(0).padStart(4)} µs/request  errors ${r.non2xx + r.errors + r.timeouts}`,
    );
  }
  await mf.dispose();
  rmSync(dir, { recursive: true, force: true });
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
  await runLoad({ url, connections: 10, warmupSeconds: 0, durationSeconds: 2, requests: [REQ[name]] }); // warm
  await send('Profiler.start');
  const r = await runLoad({ url, connections: 10, warmupSeconds: 0, durationSeconds: SECONDS, requests: [REQ[name]] });
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
await mf.dispose();
rmSync(dir, { recursive: true, force: true });
