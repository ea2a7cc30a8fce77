/**
 * Property-based fuzzing (fast-check) of every endpoint on this branch, black box over HTTP: random and
 * malformed methods, paths, query strings, content types, bodies, headers, unicode and very long values.
 * Properties: never a 5xx; every error is a well-formed RFC error JSON (`error` from the registered codes,
 * `error_description` a string, JSON content type, not cacheable); resource errors carry a Bearer challenge.
 * Runs ≥ 10,000 generated requests in all (the sum of NUM_RUNS below).
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { basic, call, seedClient, seedUser, type TestClient } from '../helpers';

/** RFC 6749 §5.2 / §4.1.2.1, RFC 6750 §3.1, RFC 7591 §3.2.2, RFC 7009 §2.2.1, RFC 8707 §2 codes: nothing else is ever sent. */
const KNOWN_ERRORS = new Set([
  'invalid_request',
  'invalid_client',
  'invalid_grant',
  'unauthorized_client',
  'unsupported_grant_type',
  'invalid_scope',
  'access_denied',
  'unsupported_response_type',
  'server_error',
  'temporarily_unavailable',
  'invalid_token',
  'insufficient_scope',
  'invalid_redirect_uri',
  'invalid_client_metadata',
  'unsupported_token_type',
  'invalid_target',
]);

const NUM_RUNS = { anything: 5000, tokenEndpoint: 3500, bearer: 1500, passwordGrant: 60 };

const ENDPOINTS = [
  '/oauth2/token',
  '/v1/oauth2/token',
  '/.well-known/oauth-authorization-server',
  '/.well-known/jwks.json',
  '/v1/me',
  '/',
];
const PARAM_NAMES = [
  'grant_type',
  'scope',
  'username',
  'password',
  'refresh_token',
  'client_id',
  'client_secret',
  'code',
  'redirect_uri',
  'code_verifier',
  'access_token',
  'token',
  'state',
  'resource',
];

let client: TestClient;
let user: { email: string; password: string };

beforeAll(async () => {
  client = await seedClient();
  user = await seedUser();
});

/** Any string, including unicode, lone surrogates and control characters. */
const anyString = (maxLength = 40) =>
  fc.oneof(
    fc.string({ maxLength }),
    fc.string({ unit: 'grapheme', maxLength }),
    fc.string({ unit: 'binary', maxLength }),
  );
/** Sometimes very long: up to 40,000 characters (form bodies are capped at 16 KiB, tokens at 4 KiB). */
const value = fc.oneof(
  { weight: 6, arbitrary: anyString() },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom('a', '%', 'é', '\u{1F600}', '=', '&'), fc.integer({ min: 1000, max: 40_000 }))
      .map(([c, n]) => c.repeat(n)),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom('%', '%ZZ', '%E9', '%C3%28', '%00', '+', '=', '&&', ' ', '\u0000', '\uD800'),
  },
);
/** Percent-encodes the UTF-8 of `s` (lone surrogates become U+FFFD, as any client would send them)… */
const pct = (s: string) =>
  Array.from(new TextEncoder().encode(s), (b) =>
    /[A-Za-z0-9_.~-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).padStart(2, '0')}`,
  ).join('');
/** …or sends it raw, for malformed encodings. */
const encoded = (s: string, raw: boolean) => (raw ? s : pct(s));
const pairs = fc.array(fc.tuple(fc.oneof(fc.constantFrom(...PARAM_NAMES), anyString(12)), value, fc.boolean()), {
  maxLength: 8,
});
const formString = pairs.map((ps) => ps.map(([k, v, raw]) => `${encoded(k, raw)}=${encoded(v, raw)}`).join('&'));

/**
 * Header values: the UTF-8 bytes of the string, non-printable and non-ASCII bytes spelled as \xNN (the Fetch
 * API refuses CR/LF/NUL, and workerd re-encodes non-ASCII with a warning; unicode is fuzzed in bodies and URLs).
 */
const headerValue = (s: string) =>
  Array.from(new TextEncoder().encode(s), (b) =>
    b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`,
  )
    .join('')
    .trim();

const authorization = fc.oneof(
  fc.constant(undefined),
  anyString(60).map(headerValue),
  fc.tuple(anyString(20), anyString(20)).map(([id, secret]) => basic(id, secret)),
  anyString(30).map((s) => `Basic ${headerValue(s)}`),
  anyString(200).map((s) => `Bearer ${headerValue(s)}`),
  fc.constant('__client__'), // replaced by the real client's credentials
  fc.constant('__client_wrong__'),
);

const contentType = fc.oneof(
  fc.constantFrom(
    'application/x-www-form-urlencoded',
    'application/x-www-form-urlencoded; charset=utf-8',
    'application/x-www-form-urlencoded; charset=ISO-8859-1',
    'APPLICATION/X-WWW-FORM-URLENCODED;CHARSET="UTF-8"',
    'application/json',
    'text/plain',
    'multipart/form-data; boundary=xyz',
    '',
  ),
  anyString(30).map(headerValue),
);

const body = fc.oneof(
  { weight: 4, arbitrary: formString },
  { weight: 1, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v)) },
  { weight: 1, arbitrary: anyString(200) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }) },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 16_000, max: 70_000 }).map((n) => `grant_type=client_credentials&x=${'a'.repeat(n)}`),
  },
);

const path = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...ENDPOINTS) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(
        fc.constantFrom(...ENDPOINTS),
        fc.constantFrom('/', '//', '/..', '/%2e%2e', '/x', '%00', '%', '/%C3%A9', '/\u00e9', '.json', ';a=b'),
      )
      .map(([p, s]) => p + s),
  },
  { weight: 1, arbitrary: anyString(30).map((s) => `/${pct(s)}`) },
);

const method = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('GET', 'POST') },
  { weight: 3, arbitrary: fc.constantFrom('PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'patch', 'get') },
);

function resolveAuth(auth: string | undefined): string | undefined {
  if (auth === '__client__') return basic(client.id, client.secret);
  if (auth === '__client_wrong__') return basic(client.id, `${client.secret}x`);
  return auth;
}

interface Sent {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string | Uint8Array;
}

async function send(req: Sent): Promise<Response> {
  const init: RequestInit = { method: req.method, headers: req.headers };
  if (req.body !== undefined && !['GET', 'HEAD'].includes(req.method.toUpperCase())) init.body = req.body;
  return call(req.url, init);
}

/** The properties every response must have. */
async function checkResponse(req: Sent, res: Response) {
  const where = `${req.method} ${req.url.slice(0, 120)}`;
  expect(res.status, where).toBeLessThan(500);
  if (res.status < 400 || req.method.toUpperCase() === 'HEAD') {
    await res.arrayBuffer();
    return;
  }
  expect(res.headers.get('Content-Type') ?? '', where).toMatch(/^application\/json/);
  const text = await res.text();
  let json: { error?: unknown; error_description?: unknown };
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`${where}: error body is not JSON: ${text.slice(0, 200)}`);
  }
  expect(typeof json.error === 'string' && KNOWN_ERRORS.has(json.error), `${where}: error ${String(json.error)}`).toBe(
    true,
  );
  expect(typeof json.error_description, where).toBe('string');
  expect(res.headers.get('Cache-Control'), where).toBe('no-store');
  if (json.error === 'invalid_token' || json.error === 'insufficient_scope') {
    expect(res.headers.get('WWW-Authenticate') ?? '', where).toMatch(/^Bearer realm="api"/);
  }
  if (json.error === 'invalid_client') expect(res.headers.get('WWW-Authenticate') ?? '', where).toMatch(/^Basic /);
}

const requestOf = fc
  .record({
    method,
    path,
    query: fc.option(formString, { nil: undefined }),
    contentType: fc.option(contentType, { nil: undefined }),
    auth: authorization,
    body: fc.option(body, { nil: undefined }),
    requestId: fc.option(anyString(80).map(headerValue), { nil: undefined }),
  })
  .map(({ method: m, path: p, query, contentType: ct, auth, body: b, requestId }): Sent => {
    const headers: Record<string, string> = {};
    if (ct !== undefined) headers['Content-Type'] = ct;
    const a = resolveAuth(auth);
    if (a !== undefined) headers.Authorization = a;
    if (requestId !== undefined) headers['X-Request-Id'] = requestId;
    return { method: m, url: query ? `${p}?${query}` : p, headers, body: b };
  });

const property = (arb: fc.Arbitrary<Sent>) => fc.asyncProperty(arb, async (req) => checkResponse(req, await send(req)));

describe('fuzzing: never a 5xx, always a well-formed RFC error', () => {
  it(`anything at any endpoint (${NUM_RUNS.anything} requests)`, async () => {
    await fc.assert(property(requestOf), { numRuns: NUM_RUNS.anything });
  }, 300_000);

  it(`well-formed token requests with hostile parameters (${NUM_RUNS.tokenEndpoint} requests)`, async () => {
    const grant = fc.oneof(
      {
        weight: 4,
        arbitrary: fc.constantFrom(
          'client_credentials',
          'refresh_token',
          'authorization_code',
          'implicit',
          'urn:ietf:params:oauth:grant-type:jwt-bearer',
          '__proto__',
          'constructor',
          'toString',
        ),
      },
      { weight: 1, arbitrary: fc.constant('password') }, // PBKDF2 costs ~25 ms; the password property below covers it
      { weight: 1, arbitrary: anyString(20) },
    );
    const scope = fc.oneof(
      fc.constantFrom(
        'base',
        'files',
        'upload_files',
        'base files upload_files',
        'base base',
        ' base ',
        'admin',
        'openid',
        '',
      ),
      anyString(60),
    );
    const params = fc.record(
      {
        grant_type: grant,
        scope: fc.option(scope, { nil: undefined }),
        refresh_token: fc.option(value, { nil: undefined }),
        extra: pairs,
      },
      { requiredKeys: ['grant_type', 'extra'] },
    );
    const arb = fc
      .record({
        params,
        path: fc.constantFrom('/oauth2/token', '/v1/oauth2/token'),
        auth: authorization,
        queryDup: fc.boolean(),
      })
      .map(({ params: ps, path: p, auth, queryDup }): Sent => {
        const parts = [`grant_type=${pct(ps.grant_type)}`];
        if (ps.scope !== undefined) parts.push(`scope=${pct(ps.scope)}`);
        if (ps.refresh_token !== undefined) parts.push(`refresh_token=${pct(ps.refresh_token)}`);
        for (const [k, v, raw] of ps.extra) parts.push(`${encoded(k, raw)}=${encoded(v, raw)}`);
        const headers: Record<string, string> = { 'Content-Type': 'application/x-www-form-urlencoded' };
        const a = resolveAuth(auth) ?? basic(client.id, client.secret);
        headers.Authorization = a;
        // Seed 000 repeats grant_type in the query string; sometimes repeat it, sometimes with another value.
        const url = queryDup
          ? `${p}?grant_type=${pct(ps.grant_type === 'password' ? 'password' : 'client_credentials')}`
          : p;
        return { method: 'POST', url, headers, body: parts.join('&') };
      });
    await fc.assert(property(arb), { numRuns: NUM_RUNS.tokenEndpoint });
  }, 300_000);

  it(`bearer tokens of every shape on /v1/me (${NUM_RUNS.bearer} requests)`, async () => {
    const b64 = (s: string) =>
      btoa(String.fromCharCode(...new TextEncoder().encode(s)))
        .replace(/\+/g, '-')
        .replace(/\//g, '_')
        .replace(/=+$/, '');
    const jwtish = fc
      .tuple(
        fc.jsonValue(),
        fc.jsonValue(),
        fc.record({
          alg: fc.constantFrom('none', 'ES256', 'EdDSA', 'HS256', 'RS256'),
          kid: fc.oneof(fc.constantFrom('test-es256-a', 'test-es256-b'), anyString(20)),
          typ: fc.constantFrom('at+jwt', 'JWT', 'application/at+jwt'),
        }),
        fc.nat(80),
      )
      .map(
        ([payload, extra, header, sigLen]) =>
          `${b64(JSON.stringify({ ...header, ...(typeof extra === 'object' && extra && !Array.isArray(extra) ? extra : {}) }))}.${b64(JSON.stringify(payload))}.${'A'.repeat(sigLen)}`,
      );
    const token = fc.oneof(
      jwtish,
      anyString(100).map(headerValue),
      fc.constantFrom('a.b.c', '..', 'a.b.c.d.e', '=', 'Zm9v', 'eyJ.eyJ.'),
    );
    const arb = fc
      .record({
        token,
        scheme: fc.constantFrom('Bearer ', 'bearer ', 'BEARER  ', 'Bearer', 'Token ', 'Bearer\t', 'Basic '),
        where: fc.constantFrom('header', 'query', 'both'),
      })
      .map(
        ({ token: t, scheme, where }): Sent => ({
          method: 'GET',
          url: where === 'header' ? '/v1/me' : `/v1/me?access_token=${pct(t)}`,
          headers: where === 'query' ? {} : { Authorization: headerValue(`${scheme}${t}`) },
        }),
      );
    await fc.assert(property(arb), { numRuns: NUM_RUNS.bearer });
  }, 300_000);

  it(`password grant with hostile usernames and passwords (${NUM_RUNS.passwordGrant} requests, PBKDF2-bound)`, async () => {
    const arb = fc
      .record({
        username: fc.oneof(value, fc.constant(user.email), fc.constant(user.email.toUpperCase())),
        password: value,
      })
      .map(
        ({ username, password }): Sent => ({
          method: 'POST',
          url: '/oauth2/token',
          headers: {
            'Content-Type': 'application/x-www-form-urlencoded',
            Authorization: basic(client.id, client.secret),
          },
          body: `grant_type=password&username=${pct(username)}&password=${pct(password)}`,
        }),
      );
    await fc.assert(property(arb), { numRuns: NUM_RUNS.passwordGrant });
  }, 300_000);
});
