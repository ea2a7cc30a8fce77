// The bench scenarios: small objects the harness runs in order. A scenario names the server it loads
// (`target`, a key of PORTS), builds its request from the seeded state `s`, and may `chain` (each request
// consumes a token and the response supplies the next: refresh rotation; or, with `field: null`, every request
// takes a fresh entry from the pool: authorization codes). A scenario with `todo` is listed as "not measured".

const form = { 'Content-Type': 'application/x-www-form-urlencoded' };
const post = (path, authorization, body) => ({
  method: 'POST',
  path,
  headers: { ...form, Authorization: authorization },
  body,
});
const get = (path, authorization) => ({
  method: 'GET',
  path,
  headers: authorization ? { Authorization: authorization } : {},
});

const SCENARIOS = [
  { id: 'ceiling', label: 'ceiling: no-op Worker', target: 'ceiling', request: () => get('/') },
  // The same no-op Worker sent the very request of a product scenario (it ignores it): what the runtime alone costs
  // for those bytes (a ~700-byte bearer token, a form body), so the ratio to it counts only the product's own work.
  {
    id: 'ceiling_me',
    label: 'ceiling: no-op Worker, sent the request of me_client',
    target: 'ceiling',
    request: (s) => get('/v1/me', `Bearer ${s.product.clientAccessToken}`),
  },
  {
    id: 'ceiling_cc',
    label: 'ceiling: no-op Worker, sent the request of cc',
    target: 'ceiling',
    request: (s) => post('/oauth2/token', s.product.basic, 'grant_type=client_credentials'),
  },
  {
    id: 'r2_read',
    label: 'baseline: unauthenticated R2 read, 20 KB object (bench Worker)',
    target: 'storage',
    request: (s) => get(`/r2/${s.imageKey}`),
  },
  {
    id: 'image_get',
    label: 'image GET, `files` token in the query string, edge-cache hit (verify + 1 Cache API match, 0 R2)',
    target: 'product',
    // The object was uploaded once in the seed (PUT with an upload_files token); r2_read reads the same key.
    // Measured right after r2_read, so that machine drift during the run does not fall between the two.
    request: (s) => get(`/v1/img/${s.product.imagePath}?access_token=${s.product.filesAccessToken}`),
  },
  {
    id: 'image_get_cold',
    label:
      'image GET, cold edge cache (bench wrapper: every match a miss; verify + 1 R2 read + tee + cache put, as a first reader)',
    target: 'bench',
    request: (s) => ({
      ...get(`/v1/img/${s.product.imagePath}?access_token=${s.product.filesAccessToken}`),
      headers: { 'x-bench-cache': 'miss' },
    }),
  },
  {
    id: 'r2_cache_floor',
    label:
      'baseline: cold edge-cache floor, 1 Cache API miss + the R2 read + tee + 1 cache put, no auth (bench Worker)',
    target: 'storage',
    request: (s) => get(`/r2cached/${s.imageKey}`),
  },
  {
    id: 'sign_floor',
    label: 'signing floor: one jose ES256 JWT of the cc claims per request, product key (bench Worker)',
    target: 'signFloor',
    request: (s) => post('/oauth2/token', s.product.basic, 'grant_type=client_credentials'),
  },
  {
    id: 'hono_sign_floor',
    label:
      "Hono token floor: Hono + 1 middleware, the form read, 1 rate-limit call, the signing floor's JWT, `c.json` (bench Worker)",
    target: 'honoFloor',
    request: (s) => post('/oauth2/token', s.product.basic, 'grant_type=client_credentials'),
  },
  {
    id: 'hono_floor',
    label: 'Hono floor: one Hono app, one middleware, `c.json` of a JWKS-sized constant (bench Worker)',
    target: 'honoFloor',
    request: () => get('/.well-known/jwks.json'),
  },
  {
    id: 'kv_read',
    label: 'baseline: one KV read of a copy of the client record, stored without expiry (bench Worker)',
    target: 'storage',
    request: () => get('/kv/bench:kv-baseline'),
  },
  {
    id: 'd1_read',
    label: 'baseline: one D1 read of the user row (bench Worker)',
    target: 'storage',
    request: (s) => get(`/d1/${s.product.userId}`),
  },
  {
    id: 'jwks',
    label: 'GET /.well-known/jwks.json (product floor: Hono, middleware, request log; no storage, no crypto)',
    target: 'product',
    request: () => get('/.well-known/jwks.json'),
  },
  {
    id: 'cc',
    label: 'client_credentials issuance (Basic auth, ES256 JWT; client record hot in the isolate)',
    target: 'product',
    request: (s) => post('/oauth2/token', s.product.basic, 'grant_type=client_credentials'),
  },
  {
    id: 'me_client',
    label: 'GET /v1/me, bearer-verified, client token (verify; client record hot in the isolate, else 1 KV read)',
    target: 'product',
    request: (s) => get('/v1/me', `Bearer ${s.product.clientAccessToken}`),
  },
  {
    id: 'me_user',
    label: 'GET /v1/me, bearer-verified, user token (verify + 1 D1 read of the user)',
    target: 'product',
    request: (s) => get('/v1/me', `Bearer ${s.product.userAccessToken}`),
  },
  {
    id: 'refresh',
    label: 'refresh_token rotation (1 D1 batch), chained per connection',
    target: 'product',
    request: (s) => post('/oauth2/token', s.product.basic, ''),
    chain: (s) => ({
      poolFile: s.product.refreshPoolFile,
      bodyPrefix: 'grant_type=refresh_token&refresh_token=',
      field: 'refresh_token',
    }),
  },
  {
    id: 'password',
    label: 'password grant (PBKDF2-SHA256, 100,000 iterations)',
    target: 'product',
    request: (s) =>
      post(
        '/oauth2/token',
        s.product.basic,
        `grant_type=password&username=${encodeURIComponent(s.product.email)}&password=${encodeURIComponent(s.product.password)}`,
      ),
  },
  {
    id: 'authorization_code',
    label: 'authorization_code exchange with PKCE (1 D1 batch; codes pre-issued in D1, one per request)',
    target: 'product',
    // Each code is single use: every request takes a fresh code (and its verifier) from a pool inserted in D1
    // exactly as src/storage/authorization-codes.ts stores them, so only the token exchange is measured.
    request: (s) => post('/oauth2/token', s.product.basic, ''),
    chain: (s) => ({
      poolFile: s.product.codePoolFile,
      bodyPrefix: `grant_type=authorization_code&redirect_uri=${encodeURIComponent(s.product.redirectUri)}&code=`,
      field: null,
      raw: true,
    }),
  },
  {
    id: 'introspect',
    label: 'token introspection (RFC 7662) of a JWT access token (client auth + verify + 1 D1 read of the deny-list)',
    target: 'product',
    request: (s) => post('/oauth2/introspect', s.product.basic, `token=${s.product.clientAccessToken}`),
  },
  {
    id: 'wop_bearer',
    label: 'peer workers-oauth-provider: bearer-checked API request',
    target: 'wop',
    request: (s) => get('/api/me', `Bearer ${s.wop.accessToken}`),
  },
  {
    id: 'wop_refresh',
    label: 'peer workers-oauth-provider: refresh_token rotation, chained',
    target: 'wop',
    request: (s) => post('/oauth/token', s.wop.basic, ''),
    chain: (s) => ({
      poolFile: s.wop.refreshPoolFile,
      bodyPrefix: 'grant_type=refresh_token&refresh_token=',
      field: 'refresh_token',
    }),
  },
  {
    id: 'oidc_cc',
    label: 'peer oidc-provider (Node): client_credentials, JWT access token (ES256)',
    target: 'oidc',
    request: (s) => post('/token', s.oidc.basic, 'grant_type=client_credentials&scope=api'),
  },
  {
    id: 'oidc_introspect',
    label: 'peer oidc-provider (Node): introspection of an opaque token',
    target: 'oidc',
    request: (s) => post('/token/introspection', s.oidc.basic, `token=${s.oidc.opaqueToken}`),
  },
];

/**
 * The order of one round. The harness runs every round in this order (BENCH_ROUNDS times): the two sides of each
 * target sit next to each other, so a target's ratio is taken between measurements seconds apart, and machine
 * drift falls between rounds rather than between numerator and denominator.
 */
const ORDER = [
  'ceiling',
  'ceiling_me',
  'me_client',
  'ceiling_cc',
  'cc',
  'sign_floor',
  'hono_sign_floor',
  'oidc_cc',
  'hono_floor',
  'jwks',
  'r2_read',
  'image_get',
  'image_get_cold',
  'r2_cache_floor',
  'wop_refresh',
  'refresh',
  'wop_bearer',
  'kv_read',
  'd1_read',
  'me_user',
  'authorization_code',
  'introspect',
  'oidc_introspect',
  'password',
];
export const MAIN = ORDER.map((id) => SCENARIOS.find((s) => s.id === id));
if (MAIN.length !== SCENARIOS.length || MAIN.includes(undefined))
  throw new Error('bench/lib/scenarios.mjs: ORDER must list every scenario once');

/**
 * Cold isolates and the latency model (issue 17), on the wrapped product (bench/wrappers/product-bench/index.ts), which
 * counts D1/KV/R2 round trips per request (`roundTrips`). `cold_*`: every request in a cold isolate (fresh env, hence
 * config and key ring; deny-list snapshot and client copies forgotten). `near_*` / `far_*`: warm, every storage call
 * delayed as in the latency model. Refresh, code and password must write to D1, so they are in the model but not in
 * its "no D1" target.
 */
const OPS = ['cc', 'me_client', 'me_user', 'image_get', 'introspect', 'jwks', 'refresh'];
const withHeaders = (sc, headers, id, label) => ({
  ...sc,
  id,
  label,
  target: 'bench',
  roundTrips: true,
  request: (s) => {
    const r = sc.request(s);
    return { ...r, headers: { ...r.headers, ...headers } };
  },
});
const byId = (id) => SCENARIOS.find((x) => x.id === id);
export const EDGE = [
  ...OPS.filter((id) => id !== 'refresh').map((id) =>
    withHeaders(byId(id), { 'x-bench-cold': '1' }, `cold_${id}`, `cold isolate: ${id}`),
  ),
  ...['near', 'far'].flatMap((colo) =>
    OPS.map((id) =>
      withHeaders(byId(id), { 'x-bench-colo': colo }, `${colo}_${id}`, `${colo} colo (latency model), warm: ${id}`),
    ),
  ),
];

/**
 * Growth: the same two product scenarios on two copies of the product in the same workerd, identical but for their
 * D1 database: `product` holding 10k clients and 1k refresh tokens, `productBig` 10k clients and BIG. Listed as
 * neighbours, so they interleave round by round like every other target.
 */
const cc = SCENARIOS.find((s) => s.id === 'cc');
const refresh = SCENARIOS.find((s) => s.id === 'refresh');
const growthChain = (stage) => (s) => ({ ...refresh.chain(s), poolFile: s.growthPools[stage] });
export const GROWTH = [
  { ...cc, id: 'cc_1k', target: 'product', label: 'client_credentials, 10k clients + 1k refresh tokens stored' },
  {
    ...cc,
    id: 'cc_big',
    target: 'productBig',
    label: 'client_credentials, 10k clients + BIG refresh tokens stored (second product copy)',
  },
  {
    ...refresh,
    id: 'refresh_1k',
    target: 'product',
    chain: growthChain('small'),
    label: 'refresh rotation, 10k clients + 1k refresh tokens stored',
  },
  {
    ...refresh,
    id: 'refresh_big',
    target: 'productBig',
    chain: growthChain('big'),
    label: 'refresh rotation, 10k clients + BIG refresh tokens stored (second product copy)',
  },
];

/**
 * The targets (issue 17): `num / den` must be ≥ min (or ≤ max). The verdict is on CPU µs per request (the
 * denominator's ÷ the numerator's, per round, median); the req/s ratio is reported beside it.
 */
export const TARGETS = [
  { label: 'client_credentials ≥ 1.5× oidc-provider client_credentials', num: 'cc', den: 'oidc_cc', min: 1.5 },
  // "cc within 1.25× of the floor": cc's CPU ≤ 1.25 × the floor's, i.e. floor ÷ cc ≥ 0.8.
  { label: 'client_credentials within 1.25× of the signing floor (≥ 0.8×)', num: 'cc', den: 'sign_floor', min: 0.8 },
  { label: 'bearer-verified /v1/me ≥ 0.95× jwks', num: 'me_client', den: 'jwks', min: 0.95 },
  { label: 'jwks ≥ 0.9× ceiling', num: 'jwks', den: 'ceiling', min: 0.9 },
  { label: 'image GET from the edge cache ≥ 1.2× unauthenticated R2 read', num: 'image_get', den: 'r2_read', min: 1.2 },
  {
    label: 'image GET, cold edge cache ≥ 0.95× unauthenticated R2 read',
    num: 'image_get_cold',
    den: 'r2_read',
    min: 0.95,
  },
  { label: 'introspection ≥ 0.9× one D1 read', num: 'introspect', den: 'd1_read', min: 0.9 },
  { label: 'refresh ≥ 2× workers-oauth-provider refresh', num: 'refresh', den: 'wop_refresh', min: 2 },
  {
    label: '(for reading) client_credentials ÷ the no-op Worker sent the same request',
    num: 'cc',
    den: 'ceiling_cc',
    info: true,
  },
  {
    label: '(for reading) signing floor ÷ the no-op Worker sent the same request',
    num: 'sign_floor',
    den: 'ceiling_cc',
    info: true,
  },
  // Miniflare's cache simulator runs in the measured process: what its miss + put cost without anything of ours.
  {
    label: '(for reading) image GET, cold cache ÷ cold-cache floor',
    num: 'image_get_cold',
    den: 'r2_cache_floor',
    info: true,
  },
  {
    label: '(for reading) cold-cache floor ÷ unauthenticated R2 read',
    num: 'r2_cache_floor',
    den: 'r2_read',
    info: true,
  },
  // The stack is fixed (Hono, the rate-limit binding): what any token endpoint on it costs, and what ours adds.
  {
    label: '(for reading) client_credentials ÷ Hono token floor',
    num: 'cc',
    den: 'hono_sign_floor',
    info: true,
  },
  {
    label: '(for reading) Hono token floor ÷ signing floor',
    num: 'hono_sign_floor',
    den: 'sign_floor',
    info: true,
  },
  // The stack is fixed (Hono): what any Hono app costs for a JSON answer, and what ours adds on top of it.
  { label: '(for reading) Hono floor ÷ ceiling', num: 'hono_floor', den: 'ceiling', info: true },
  { label: '(for reading) jwks ÷ Hono floor', num: 'jwks', den: 'hono_floor', info: true },
  {
    label: '(for reading) introspection ÷ oidc-provider introspection',
    num: 'introspect',
    den: 'oidc_introspect',
    info: true,
  },
  { label: 'growth: client_credentials at 1k ÷ at BIG refresh tokens ≤ 1.2×', num: 'cc_1k', den: 'cc_big', max: 1.2 },
  { label: 'growth: refresh at 1k ÷ at BIG refresh tokens ≤ 1.2×', num: 'refresh_1k', den: 'refresh_big', max: 1.2 },
];
