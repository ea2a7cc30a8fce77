// `npm run soak`: mixed traffic for SOAK_SECONDS, zero errors expected, workerd's RSS sampled; its own report section.
import { runLoad } from './load.mjs';
import { fmt, markdownTable, rssCells, rssSamples, writeSection } from './report.mjs';
import { rssKiB, workerdPids } from './runtime.mjs';
import { base, CONNECTIONS, log, POOL, REPORT, SOAK_SECONDS } from './settings.mjs';

/** 60 s of mixed traffic from the same harness, zero errors expected, workerd RSS sampled every 5 s. */
export async function soak(s, errorLogs) {
  const p = s.product;
  const form = { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: p.basic };
  const mix = [
    { method: 'POST', path: '/oauth2/token', headers: form, body: 'grant_type=client_credentials' },
    { method: 'GET', path: '/v1/me', headers: { Authorization: `Bearer ${p.clientAccessToken}` } },
    { method: 'POST', path: '/oauth2/token', headers: form, body: '', useChain: true },
    { method: 'GET', path: '/v1/me', headers: { Authorization: `Bearer ${p.userAccessToken}` } },
    { method: 'GET', path: '/.well-known/jwks.json', headers: {} },
    { method: 'POST', path: '/v1/oauth2/token', headers: form, body: 'grant_type=client_credentials&scope=files' },
    { method: 'GET', path: '/.well-known/oauth-authorization-server', headers: {} },
  ];
  // SOAK_MIX=stateless drops the requests that write D1 (refresh rotation), to tell the isolate's memory
  // from the local D1 simulator's (which lives in the same workerd process and grows with every row).
  // SOAK_MIX=ceiling loads the no-op Worker instead: the runtime's own memory behaviour under the same load.
  const stateless = process.env.SOAK_MIX === 'stateless';
  const ceilingOnly = process.env.SOAK_MIX === 'ceiling';
  if (stateless)
    mix.splice(
      mix.findIndex((r) => r.useChain),
      1,
    );
  if (ceilingOnly) mix.splice(0, mix.length, { method: 'GET', path: '/', headers: {} });
  const [pid] = workerdPids();
  const samples = [];
  const sample = () => samples.push({ t: samples.length * 5, kib: rssKiB(pid) });
  sample();
  const timer = setInterval(sample, 5000);
  const r = await runLoad({
    url: base(ceilingOnly ? 'ceiling' : 'product'),
    connections: CONNECTIONS,
    warmupSeconds: 0,
    durationSeconds: SOAK_SECONDS,
    requests: mix,
    chain: { poolFile: p.refreshPoolFile, bodyPrefix: 'grant_type=refresh_token&refresh_token=', field: null },
  });
  clearInterval(timer);
  sample();
  log(`soak: status codes ${JSON.stringify(r.statusCodes)}; ${r.poolUsed} refresh tokens taken from a pool of ${POOL}`);
  for (const f of r.chainFailures) log(`soak: failed refresh: ${f}`);
  for (const line of errorLogs) log(`soak: product error log: ${line}`);
  const errors = r.non2xx + r.errors + r.timeouts;
  const first = samples[0].kib;
  const afterWarm = samples[Math.min(2, samples.length - 1)].kib; // 10 s in: isolate, caches and JIT warm
  const last = samples[samples.length - 1].kib;
  const max = Math.max(...samples.map((x) => x.kib));
  const growthPct = ((last - afterWarm) / afterWarm) * 100;
  // Pass = zero errors. RSS is reported, not judged by a fixed bound: the no-op ceiling Worker grows workerd's
  // RSS the same way under load until V8 settles (SOAK_MIX=ceiling), so compare with that, and look for a plateau.
  const ok = errors === 0;
  log(
    `soak: ${fmt(r.total)} requests, ${fmt(r.rps)} ok/s, errors ${errors}; workerd RSS ${fmt(first / 1024, 1)} → ${fmt(last / 1024, 1)} MiB (max ${fmt(max / 1024, 1)})`,
  );
  const body = [
    `## Soak (\`npm run soak\`)`,
    ``,
    `Run ${new Date().toISOString()}: ${SOAK_SECONDS} s of mixed traffic (client_credentials, /v1/me with client and user tokens, ` +
      `${stateless ? 'no refresh rotation (SOAK_MIX=stateless), ' : 'refresh rotation of pre-seeded tokens, '}` +
      `JWKS, metadata, the CitrusAd token path) with ${CONNECTIONS} connections against the product Worker on workerd (pid ${pid}).`,
    ``,
    `Pass means zero errors (any non-2xx, socket error or timeout). Memory is reported rather than judged against a fixed bound: ` +
      `under load workerd's RSS grows for the no-op ceiling Worker too until V8's heap settles (\`SOAK_MIX=ceiling npm run soak\`), so the ` +
      `question is whether the product's RSS plateaus like the ceiling's, which the samples below show.`,
    ``,
    markdownTable(
      [
        'requests',
        'ok req/s',
        'p50 ms',
        'p99 ms',
        'errors',
        'workerd RSS start',
        'RSS at 10 s',
        'RSS end',
        'RSS max',
        'growth after warm-up',
        'result (errors)',
      ],
      [
        [
          fmt(r.total),
          fmt(r.rps),
          fmt(r.p50, 1),
          fmt(r.p99, 1),
          fmt(errors),
          ...rssCells({ first, afterWarm, last, max }),
          `${fmt(growthPct, 1)} %`,
          ok ? '**pass**' : '**fail**',
        ],
      ],
    ),
    ``,
    `Status codes: ${JSON.stringify(r.statusCodes)}; ${r.poolUsed} refresh rotations, each of a fresh pre-seeded token (pool of ${POOL})` +
      `${errorLogs.length ? `; product error logs: ${errorLogs.map((l) => `\`${l.replace(/`/g, "'")}\``).join(', ')}` : '; no error-level log line from the product'}.`,
    ``,
    `RSS samples (s → MiB): ${rssSamples(samples)}. ` +
      `"Growth after warm-up" is from 10 s in to the end (the first seconds load the isolate, JIT and local storage caches).`,
  ].join('\n');
  const section = ceilingOnly ? 'soak-ceiling' : stateless ? 'soak-stateless' : 'soak';
  const title = ceilingOnly
    ? '## Soak of the ceiling no-op Worker (`SOAK_MIX=ceiling npm run soak`)'
    : stateless
      ? '## Soak without D1 writes (`SOAK_MIX=stateless npm run soak`)'
      : '## Soak (`npm run soak`)';
  let text = body.replace('## Soak (`npm run soak`)', title);
  if (ceilingOnly)
    text = text.replace(
      /: \d+ s of mixed traffic \([^)]*\)[^.]*\./,
      `: ${SOAK_SECONDS} s of GET / against the ceiling no-op Worker on the same workerd (pid ${pid}), ${CONNECTIONS} connections.`,
    );
  writeSection(REPORT, section, 'Benchmarks', text);
  return ok;
}
