// `SOAK_MIX=ratelimit npm run soak` (issue 16): traffic that saturates the product's rate limiters, run with the
// limits of wrangler.toml (bench/lib/runtime.mjs productRateLimits), for SOAK_SECONDS. Pass: zero 5xx, zero
// socket errors or timeouts, a Retry-After on every 429, 429s on every limited kind of request, none on the
// unlimited ones, and the limited client's successes within what the limit allows. Its own report section.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runLoad } from './load.mjs';
import { fmt, markdownTable, rssCells, rssSamples, verdictCell, writeSection } from './report.mjs';
import { rssKiB, workerdPids } from './runtime.mjs';
import { base, CONNECTIONS, log, REPORT, ROOT, SOAK_SECONDS } from './settings.mjs';

/** limit and period of one [[ratelimits]] binding of wrangler.toml. */
function bindingLimit(name) {
  const toml = readFileSync(join(ROOT, 'wrangler.toml'), 'utf8');
  const m = new RegExp(
    `name = "${name}"\\s*\\nnamespace_id = "\\d+"\\s*\\nsimple = \\{ limit = (\\d+), period = (\\d+) \\}`,
  ).exec(toml);
  if (!m) throw new Error(`soak: binding ${name} not found in wrangler.toml`);
  return { limit: Number(m[1]), period: Number(m[2]) };
}

export async function soakRateLimit(s, errorLogs) {
  const p = s.product;
  const token = bindingLimit('TOKEN_RATE_LIMITER');
  const ip = bindingLimit('IP_RATE_LIMITER');
  const formType = { 'Content-Type': 'application/x-www-form-urlencoded' };
  const from = (n) => ({ 'CF-Connecting-IP': `203.0.113.${n}` });
  const kinds = [
    {
      label: 'client_credentials, one client (per client)',
      limited: true,
      req: {
        method: 'POST',
        path: '/oauth2/token',
        headers: { ...formType, Authorization: p.basic, ...from(1) },
        body: 'grant_type=client_credentials',
      },
    },
    {
      label: 'POST /login, one address (per address)',
      limited: true,
      req: {
        method: 'POST',
        path: '/login',
        headers: { ...formType, ...from(2) },
        body: 'email=a%40example.com&password=x',
      },
    },
    {
      label: 'GET /oauth2/authorize, one address',
      limited: true,
      req: {
        method: 'GET',
        path: `/oauth2/authorize?response_type=code&client_id=${encodeURIComponent(p.clientId)}`,
        headers: from(3),
      },
    },
    {
      label: 'POST /oauth2/register, one address',
      limited: true,
      req: {
        method: 'POST',
        path: '/oauth2/register',
        headers: { 'Content-Type': 'application/json', ...from(4) },
        body: '{"redirect_uris":["https://app.example/cb"]}',
      },
    },
    {
      label: 'GET /v1/me, client token (not limited)',
      limited: false,
      req: { method: 'GET', path: '/v1/me', headers: { Authorization: `Bearer ${p.clientAccessToken}`, ...from(1) } },
    },
    {
      label: 'GET /.well-known/jwks.json (not limited)',
      limited: false,
      req: { method: 'GET', path: '/.well-known/jwks.json', headers: from(1) },
    },
  ];

  const [pid] = workerdPids();
  const samples = [];
  const sample = () => samples.push({ t: samples.length * 5, kib: rssKiB(pid) });
  sample();
  const timer = setInterval(sample, 5000);
  const r = await runLoad({
    url: base('product'),
    connections: CONNECTIONS,
    warmupSeconds: 0,
    durationSeconds: SOAK_SECONDS,
    requests: kinds.map((k) => k.req),
    tally: true,
  });
  clearInterval(timer);
  sample();

  const count = (t, pred) => Object.entries(t).reduce((n, [st, c]) => (pred(Number(st)) ? n + c : n), 0);
  const fivexx = r.tally.reduce((n, t) => n + count(t, (st) => st >= 500), 0);
  const tooMany = r.tally.reduce((n, t) => n + count(t, (st) => st === 429), 0);
  const windows = Math.ceil(SOAK_SECONDS / token.period) + 1; // the run may straddle one more window than it lasts
  const ccOk = count(r.tally[0], (st) => st === 200);
  const checks = [
    ['no 5xx', fivexx === 0],
    ['no socket error or timeout', r.errors + r.timeouts === 0],
    ['every 429 has Retry-After', r.tooManyWithoutRetryAfter === 0],
    ['429s on every limited kind', kinds.every((k, i) => !k.limited || count(r.tally[i], (st) => st === 429) > 0)],
    [
      'only 200 on the unlimited kinds',
      kinds.every((k, i) => k.limited || count(r.tally[i], (st) => st !== 200) === 0),
    ],
    [`client_credentials successes ≤ ${token.limit} × ${windows} windows`, ccOk <= token.limit * windows],
  ];
  const ok = checks.every(([, pass]) => pass);
  for (const line of errorLogs) log(`soak: product error log: ${line}`);
  const first = samples[0].kib;
  const afterWarm = samples[Math.min(2, samples.length - 1)].kib;
  const last = samples[samples.length - 1].kib;
  const max = Math.max(...samples.map((x) => x.kib));
  log(
    `soak (rate limits): ${fmt(r.total)} requests, ${fmt(tooMany)} × 429, ${fmt(fivexx)} × 5xx; ` +
      `${checks.map(([what, pass]) => `${what}: ${pass ? 'yes' : 'NO'}`).join('; ')}; ` +
      `workerd RSS ${fmt(first / 1024, 1)} → ${fmt(last / 1024, 1)} MiB (max ${fmt(max / 1024, 1)})`,
  );
  const statuses = (t) =>
    Object.entries(t)
      .sort(([a], [b]) => Number(a) - Number(b))
      .map(([st, c]) => `${st}: ${fmt(c)}`)
      .join(', ');
  const body = [
    '## Soak that saturates the rate limiters (`SOAK_MIX=ratelimit npm run soak`)',
    '',
    `Run ${new Date().toISOString()}: ${SOAK_SECONDS} s, ${CONNECTIONS} connections, against the product Worker on workerd (pid ${pid}) ` +
      `with the limits of wrangler.toml (TOKEN_RATE_LIMITER ${token.limit} per ${token.period} s per client, ` +
      `IP_RATE_LIMITER ${ip.limit} per ${ip.period} s per address and scope; Miniflare's implementation, fixed windows). ` +
      'Each connection cycles through the requests below, every one from a fixed `CF-Connecting-IP`. ' +
      'Pass: ' +
      checks.map(([what]) => what).join(', ') +
      '.',
    '',
    markdownTable(
      ['request', 'answers by status'],
      kinds.map((k, i) => [k.label, statuses(r.tally[i])]),
    ),
    '',
    markdownTable(
      [
        'requests',
        'req/s',
        'p50 ms',
        'p99 ms',
        '429 (all with Retry-After)',
        '5xx',
        'workerd RSS start',
        'RSS at 10 s',
        'RSS end',
        'RSS max',
        'result',
      ],
      [
        [
          fmt(r.total),
          fmt(r.total / r.duration),
          fmt(r.p50, 1),
          fmt(r.p99, 1),
          `${fmt(tooMany)} (${r.tooManyWithoutRetryAfter === 0 ? 'yes' : `${r.tooManyWithoutRetryAfter} without`})`,
          fmt(fivexx),
          ...rssCells({ first, afterWarm, last, max }),
          verdictCell(checks),
        ],
      ],
    ),
    '',
    `RSS samples (s → MiB): ${rssSamples(samples)}` +
      `${errorLogs.length ? `; product error logs: ${errorLogs.map((l) => `\`${l.replace(/`/g, "'")}\``).join(', ')}` : '; no error-level log line from the product'}.`,
  ].join('\n');
  writeSection(REPORT, 'soak-ratelimit', 'Benchmarks', body);
  return ok;
}
