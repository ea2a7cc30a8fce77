// `SOAK_MIX=faults npm run soak` (issue 16, docs/reliability.md): the soak's mixed traffic while storage faults are
// injected at SOAK_FAULT_RATE (default 0.05) of every D1, KV and R2 call. The faults come from the bench-only wrapper
// Worker (bench/wrappers/product-bench, header `x-bench-faults`), which wraps the product's bindings and forwards to
// its fetch: nothing in the product can switch them on. Beside autocannon's mix, a few refresh clients run chains of
// rotations and retry the same refresh token after every 503 (as a client does after a failed request), until it
// rotates. Pass: zero 5xx other than 503, a Retry-After on every 503, no socket error or timeout, no refresh family
// lost (no invalid_grant on a chain, and every chain's last token still rotates once the faults stop).
import { readFileSync } from 'node:fs';
import { runLoad } from './load.mjs';
import { fmt, markdownTable, rssCells, rssSamples, verdictCell, writeSection } from './report.mjs';
import { rssKiB, workerdPids } from './runtime.mjs';
import { base, CONNECTIONS, log, REPORT, SOAK_SECONDS } from './settings.mjs';

const RATE = Number(process.env.SOAK_FAULT_RATE ?? 0.05);
const CHAINS = 4;
/** Between a 503 and the client's retry: shorter than the Retry-After (2 s) to keep the chain busy; correctness only. */
const RETRY_MS = 50;

async function refreshChains(p, stopAt) {
  const pool = JSON.parse(readFileSync(p.refreshPoolFile, 'utf8'));
  let next = pool.length - 1; // from the end: autocannon's mix draws none in this mode
  const stats = { requests: 0, rotations: 0, retries: 0, unavailable: 0, without: 0, lost: [], statuses: {} };
  const post = (target, token, faults) =>
    fetch(`${base(target)}/oauth2/token`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-www-form-urlencoded',
        Authorization: p.basic,
        ...(faults ? { 'x-bench-faults': String(RATE) } : {}),
      },
      body: `grant_type=refresh_token&refresh_token=${encodeURIComponent(token)}`,
    });
  const chain = async () => {
    let token = pool[next--];
    while (Date.now() < stopAt) {
      const res = await post('bench', token, true);
      const text = await res.text();
      stats.requests++;
      stats.statuses[res.status] = (stats.statuses[res.status] ?? 0) + 1;
      if (res.status === 200) {
        token = JSON.parse(text).refresh_token;
        stats.rotations++;
      } else if (res.status === 503) {
        stats.unavailable++;
        if (!res.headers.get('retry-after')) stats.without++;
        stats.retries++;
        await new Promise((r) => setTimeout(r, RETRY_MS));
      } else {
        // A family lost because of our failure (or any other refusal of a token the client rightly holds).
        stats.lost.push(`${res.status} ${text.slice(0, 160)}`);
        token = pool[next--];
      }
    }
    // The faults stop: the chain's last token must still rotate (it may need the retry window if its last answer was a 503).
    const last = await post('product', token, false);
    if (last.status !== 200) stats.lost.push(`after the run: ${last.status} ${(await last.text()).slice(0, 160)}`);
  };
  await Promise.all(Array.from({ length: CHAINS }, chain));
  return stats;
}

export async function soakFaults(s, errorLogs) {
  const p = s.product;
  const faults = { 'x-bench-faults': String(RATE) };
  const form = { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: p.basic, ...faults };
  const kinds = [
    [
      'client_credentials',
      { method: 'POST', path: '/oauth2/token', headers: form, body: 'grant_type=client_credentials' },
    ],
    [
      '/v1/me, client token',
      { method: 'GET', path: '/v1/me', headers: { Authorization: `Bearer ${p.clientAccessToken}`, ...faults } },
    ],
    [
      '/v1/me, user token',
      { method: 'GET', path: '/v1/me', headers: { Authorization: `Bearer ${p.userAccessToken}`, ...faults } },
    ],
    ['JWKS', { method: 'GET', path: '/.well-known/jwks.json', headers: faults }],
    [
      'client_credentials, files (CitrusAd path)',
      { method: 'POST', path: '/v1/oauth2/token', headers: form, body: 'grant_type=client_credentials&scope=files' },
    ],
    ['AS metadata', { method: 'GET', path: '/.well-known/oauth-authorization-server', headers: faults }],
    [
      'image GET, files token',
      {
        method: 'GET',
        path: `/v1/img/${p.imagePath}?access_token=${encodeURIComponent(p.filesAccessToken)}`,
        headers: faults,
      },
    ],
  ];
  const before = await (await fetch(`${base('bench')}/__bench/counts`)).json();
  const [pid] = workerdPids();
  const samples = [];
  const sample = () => samples.push({ t: samples.length * 5, kib: rssKiB(pid) });
  sample();
  const timer = setInterval(sample, 5000);
  const stopAt = Date.now() + SOAK_SECONDS * 1000;
  const [r, chains] = await Promise.all([
    runLoad({
      url: base('bench'),
      connections: CONNECTIONS,
      warmupSeconds: 0,
      durationSeconds: SOAK_SECONDS,
      requests: kinds.map(([, req]) => req),
      tally: true,
    }),
    refreshChains(p, stopAt),
  ]);
  clearInterval(timer);
  sample();
  const after = await (await fetch(`${base('bench')}/__bench/counts`)).json();

  const count = (t, pred) => Object.entries(t).reduce((n, [st, c]) => (pred(Number(st)) ? n + c : n), 0);
  const sum = (pred) => r.tally.reduce((n, t) => n + count(t, pred), 0) + count(chains.statuses, pred);
  const other5xx = sum((st) => st >= 500 && st !== 503);
  const unavailable = sum((st) => st === 503);
  const without = r.unavailableWithoutRetryAfter + chains.without;
  const calls = ['d1', 'kv', 'r2'].reduce((n, k) => n + after[k] - before[k], 0);
  const injected = after.faults.before - before.faults.before + (after.faults.afterCommit - before.faults.afterCommit);
  const afterCommit = after.faults.afterCommit - before.faults.afterCommit;
  const checks = [
    ['no 500 (no 5xx but 503)', other5xx === 0],
    ['every 503 has Retry-After', without === 0],
    ['no socket error or timeout', r.errors + r.timeouts === 0],
    ['no refresh family lost', chains.lost.length === 0],
    ['faults were injected', injected > 0],
  ];
  const violations = [other5xx, without, r.errors + r.timeouts, chains.lost.length].reduce((a, b) => a + b, 0);
  const ok = checks.every(([, pass]) => pass);
  for (const f of chains.lost) log(`soak (faults): refresh family lost: ${f}`);
  const first = samples[0].kib;
  const afterWarm = samples[Math.min(2, samples.length - 1)].kib;
  const last = samples[samples.length - 1].kib;
  const max = Math.max(...samples.map((x) => x.kib));
  const total = r.total + chains.requests;
  log(
    `soak (faults): ${fmt(total)} requests, ${fmt(injected)} faults injected in ${fmt(calls)} storage calls ` +
      `(${fmt(afterCommit)} after a commit), ${fmt(unavailable)} × 503, ${fmt(other5xx)} other 5xx, ` +
      `${chains.rotations} rotations with ${chains.retries} retries; ` +
      `${checks.map(([what, pass]) => `${what}: ${pass ? 'yes' : 'NO'}`).join('; ')}; ` +
      `workerd RSS ${fmt(first / 1024, 1)} → ${fmt(last / 1024, 1)} MiB (max ${fmt(max / 1024, 1)})`,
  );
  const statuses = (t) =>
    Object.entries(t)
      .sort(([a], [b]) => Number(a) - Number(b))
      .map(([st, c]) => `${st}: ${fmt(c)}`)
      .join(', ');
  const body = [
    '## Soak with storage faults (`SOAK_MIX=faults npm run soak`)',
    '',
    `Run ${new Date().toISOString()}: ${SOAK_SECONDS} s, ${CONNECTIONS} connections of mixed traffic plus ${CHAINS} refresh clients, ` +
      `against the product through the bench-only wrapper Worker (bench/wrappers/product-bench, on workerd pid ${pid}), which fails ` +
      `${fmt(RATE * 100, 1)} % of all D1, KV and R2 calls (\`SOAK_FAULT_RATE\`): D1 \`overloaded\`, network loss, timeout reset; KV 429; ` +
      'R2 internal error; a third of the failed D1 batches applied and then lost on the way back. The refresh clients retry the same ' +
      `refresh token ${RETRY_MS} ms after each 503. Pass: ${checks.map(([what]) => what).join(', ')}.`,
    '',
    markdownTable(
      ['request', 'answers by status'],
      [
        ...kinds.map(([label], i) => [label, statuses(r.tally[i])]),
        ['refresh rotation (retried after 503)', statuses(chains.statuses)],
      ],
    ),
    '',
    markdownTable(
      [
        'requests',
        'storage calls',
        'faults injected (after commit)',
        '503 (all with Retry-After)',
        'other 5xx',
        'rotations / retries',
        'families lost',
        'invariant violations',
        'workerd RSS start',
        'RSS at 10 s',
        'RSS end',
        'RSS max',
        'result',
      ],
      [
        [
          fmt(total),
          fmt(calls),
          `${fmt(injected)} (${fmt(afterCommit)})`,
          `${fmt(unavailable)} (${without === 0 ? 'yes' : `${without} without`})`,
          fmt(other5xx),
          `${fmt(chains.rotations)} / ${fmt(chains.retries)}`,
          fmt(chains.lost.length),
          fmt(violations),
          ...rssCells({ first, afterWarm, last, max }),
          verdictCell(checks),
        ],
      ],
    ),
    '',
    `RSS samples (s → MiB): ${rssSamples(samples)}. ` +
      `The product logged ${errorLogs.length >= 20 ? '20 or more' : fmt(errorLogs.length)} error-level lines (each injected fault is ` +
      'logged as `storage_unavailable`, as on Cloudflare).',
  ].join('\n');
  writeSection(REPORT, 'soak-faults', 'Benchmarks', body);
  return ok;
}
