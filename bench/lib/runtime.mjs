// One workerd process (Miniflare's API, not `wrangler dev`) running every Worker of the bench side by
// side: the product (and a second copy of it for the growth stage), the ceiling no-op, the bare storage reads (R2, KV, D1), and the workers-oauth-provider peer.
// Each is served on its own direct socket (plain HTTP straight to the Worker, no Miniflare entry proxy),
// so all four pay exactly the same runtime overhead. Local D1/KV/R2 persist in a temp directory.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { Miniflare } from 'miniflare';

export const PORTS = {
  entry: 8794,
  product: 8795,
  ceiling: 8796,
  storage: 8797,
  wop: 8798,
  oidc: 8799,
  productBig: 8800,
  signFloor: 8801,
  bench: 8802,
  honoFloor: 8803,
};
export const HOST = '127.0.0.1';
const COMPAT = { compatibilityDate: '2026-04-01', compatibilityFlags: ['nodejs_compat'] };

/** Product vars as in wrangler.toml, with the issuer at the bench's address; secrets generated per run. */
export function productBindings(secrets) {
  const issuer = `http://${HOST}:${PORTS.product}`;
  return {
    ISSUER: issuer,
    ACCESS_TOKEN_AUDIENCE: `${issuer}/v1`,
    ACCESS_TOKEN_TTL: '3600',
    REFRESH_TOKEN_TTL: '2592000',
    AUTH_CODE_TTL: '60',
    MAX_UPLOAD_BYTES: '10485760',
    REQUEST_LOG_SAMPLE_RATE: '0.01',
    // Issue 16: `REFRESH_REUSE_GRACE_SECONDS=0 SOAK_MIX=faults npm run soak` shows the fault soak catching lost families.
    ...(process.env.REFRESH_REUSE_GRACE_SECONDS !== undefined
      ? { REFRESH_REUSE_GRACE_SECONDS: process.env.REFRESH_REUSE_GRACE_SECONDS }
      : {}),
    ...secrets,
  };
}

/**
 * The product's rate limiters (issue 16). `npm run bench` measures the cost of the check, not its refusals: the
 * limits are set out of reach. `SOAK_MIX=ratelimit npm run soak` saturates them: the limits of wrangler.toml.
 * `BENCH_RATELIMIT=off` leaves the bindings out (the middleware then lets everything through), to measure
 * the check's cost by difference.
 */
export function productRateLimits(wranglerToml) {
  if (process.env.BENCH_RATELIMIT === 'off') return {};
  const real = process.env.SOAK_MIX === 'ratelimit';
  const entries = [
    ...readFileSync(wranglerToml, 'utf8').matchAll(
      /name = "(\w+)"\s*\nnamespace_id = "(\d+)"\s*\nsimple = \{ limit = (\d+), period = (\d+) \}/g,
    ),
  ];
  if (entries.length < 2) throw new Error(`bench: the [[ratelimits]] of ${wranglerToml} were not found`);
  return Object.fromEntries(
    entries.map(([, name, namespace_id, limit, period]) => [
      name,
      { namespace_id, simple: { limit: real ? Number(limit) : 1_000_000_000, period: Number(period) } },
    ]),
  );
}

/** One Worker of the bench on its own direct socket (plain HTTP straight into it, no Miniflare entry proxy). */
function worker(name, scriptPath, port, extra = {}) {
  return {
    name,
    modules: true,
    scriptPath,
    modulesRoot: dirname(scriptPath),
    ...COMPAT,
    ...extra,
    unsafeDirectSockets: [{ host: HOST, port }],
  };
}

/** The product's local D1, KV and R2 (`suffix` names a separate set, for the second product copy). */
function productStorage(suffix) {
  return {
    d1Databases: { DB: `bench-db${suffix}` },
    kvNamespaces: { CACHE: `bench-cache${suffix}` },
    r2Buckets: { FILES: `bench-files${suffix}` },
  };
}

export async function startRuntime({
  productScript,
  wopScript,
  ceilingScript,
  storageScript,
  signFloorScript,
  honoFloorScript,
  benchScript,
  persistDir,
  bindings,
  ratelimits = {},
}) {
  const stderrTail = [];
  const errorLogs = []; // the product's own error-level log lines (its 5xx), kept for the report
  const mf = new Miniflare({
    host: HOST,
    port: PORTS.entry,
    defaultPersistRoot: persistDir,
    // Product logs (one JSON line per request) are drained, as a log shipper would; errors are kept for the report.
    handleRuntimeStdio(stdout, stderr) {
      const keepErrors = (chunk) => {
        for (const line of String(chunk).split('\n')) {
          if (line.includes('"level":"error"') && errorLogs.length < 20) errorLogs.push(line.slice(0, 400));
        }
      };
      stdout.on('data', keepErrors);
      stderr.on('data', (chunk) => {
        stderrTail.push(String(chunk));
        if (stderrTail.length > 50) stderrTail.shift();
        keepErrors(chunk);
      });
    },
    workers: [
      worker('product', productScript, PORTS.product, { bindings, ratelimits, ...productStorage('') }),
      // A second copy of the product, identical but for its storage: the growth stage fills its D1 database with
      // BENCH_GROWTH_TOKENS refresh tokens and measures it round by round against the product with 1,000.
      worker('product_big', productScript, PORTS.productBig, { bindings, ratelimits, ...productStorage('-big') }),
      worker('ceiling', ceilingScript, PORTS.ceiling),
      // The product's own storage: same object, same rows, same simulators.
      worker('storage', storageScript, PORTS.storage, productStorage('')),
      worker('wop', wopScript, PORTS.wop, { kvNamespaces: { OAUTH_KV: 'bench-wop-kv' } }),
      // Issue 17: the signing floor (one jose ES256 signature per request, the product's key and claims) and the
      // product wrapped for the cold-isolate and latency-model scenarios (bench/wrappers/product-bench/index.ts), on the
      // product's own storage.
      worker('sign_floor', signFloorScript, PORTS.signFloor, { bindings }),
      // The Hono floors (bench/baselines/hono-floor/index.js): a JSON route, and a token route with the product's key
      // and rate limiters.
      worker('hono_floor', honoFloorScript, PORTS.honoFloor, { bindings, ratelimits }),
      worker('product_bench', benchScript, PORTS.bench, { bindings, ...productStorage('') }),
    ],
  });
  try {
    await mf.ready;
  } catch (err) {
    console.error(`workerd stderr:\n${stderrTail.join('')}`);
    throw err;
  }
  return { mf, stderrTail, errorLogs };
}

/** The workerd processes that are children of this Node process (Miniflare spawns exactly one). */
export function workerdPids() {
  const pids = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid && comm.startsWith('workerd')) pids.push(Number(entry));
    } catch {
      // the process went away while we looked
    }
  }
  return pids;
}

/** Resident memory of a process in KiB (VmRSS from /proc/<pid>/status), or null if unreadable. */
export function rssKiB(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}
