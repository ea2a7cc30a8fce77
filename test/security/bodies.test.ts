/**
 * Issue 10 items 3, 9, 10, 11 (and the initial-access-token note) and issue 11 item 1's query-string rule:
 * bounded body reading at every reader, aborted bodies, parameters in the URL, the registered client
 * authentication method. Every request goes through the Worker's fetch handler with real bindings.
 */
import { env } from 'cloudflare:workers';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { clientToken, png } from '../files-fixtures';
import { basic, call, errorOf, expectTokens, seedClient, seedUser, type TestClient, tokenRequest } from '../helpers';
import { ADMIN_TOKEN, admin, json } from '../ops-helpers';

const FORM = { 'Content-Type': 'application/x-www-form-urlencoded' };
const PAGE = { ...FORM, Origin: 'http://localhost:8787', 'Sec-Fetch-Site': 'same-origin' };
const JSON_TYPE = { 'Content-Type': 'application/json' };

/** A chunked body (no Content-Length) of `total` bytes made on demand; `pulled` counts what the server asked for. */
function endless(total: number, first: Uint8Array = new Uint8Array(0)) {
  const counter = { pulled: 0 };
  const filler = new Uint8Array(64 * 1024).fill(0x61);
  const stream = new ReadableStream<Uint8Array>({
    pull(c) {
      if (counter.pulled >= total) return c.close();
      const chunk = counter.pulled === 0 && first.byteLength > 0 ? first : filler;
      counter.pulled += chunk.byteLength;
      c.enqueue(chunk);
    },
  });
  return { stream, counter };
}

/** A body whose sender goes away after `prefix`: the next read fails, as when a client's connection drops. */
function broken(prefix: Uint8Array): ReadableStream<Uint8Array> {
  let sent = false;
  return new ReadableStream<Uint8Array>({
    pull(c) {
      if (sent) return c.error(new Error('client went away'));
      sent = true;
      c.enqueue(prefix);
    },
  });
}

/** A body that ends cleanly after `prefix`, before the Content-Length it is sent with. */
function short(prefix: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start: (c) => {
      c.enqueue(prefix);
      c.close();
    },
  });
}

const text = (s: string) => new TextEncoder().encode(s);
const MiB = 1024 * 1024;
const MULTIPART = 'multipart/form-data; boundary=x';
const multipartHead = text(
  '--x\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n',
);

const lines: string[] = [];
beforeEach(() => {
  lines.length = 0;
  for (const level of ['log', 'info', 'warn', 'error'] as const) {
    vi.spyOn(console, level).mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(' ')));
  }
});
afterEach(() => vi.restoreAllMocks());

let client: TestClient;
let uploadToken: string;
let iat: string;
beforeAll(async () => {
  client = await seedClient();
  uploadToken = await clientToken(client, 'upload_files');
  const res = await admin('POST', '/initial-access-tokens', {});
  iat = (await json<{ initial_access_token: string }>(res, 201)).initial_access_token;
});

/** Every body reader, with the headers it needs to get as far as reading the body. */
function readers(): [string, string, string, Record<string, string>, Uint8Array?][] {
  return [
    ['page', 'POST', '/login', PAGE],
    ['page', 'POST', '/logout', PAGE],
    ['page', 'POST', '/oauth2/authorize', PAGE],
    ['page', 'POST', '/apps', PAGE],
    ['json', 'POST', '/oauth2/token', { ...FORM, Authorization: basic(client.id, client.secret) }],
    ['json', 'POST', '/oauth2/revoke', { ...FORM, Authorization: basic(client.id, client.secret) }],
    ['json', 'POST', '/oauth2/introspect', { ...FORM, Authorization: basic(client.id, client.secret) }],
    ['json', 'POST', '/admin/clients', { ...JSON_TYPE, Authorization: `Bearer ${ADMIN_TOKEN}` }],
    ['json', 'POST', '/oauth2/register', { ...JSON_TYPE, Authorization: `Bearer ${iat}` }],
    [
      'json',
      'PUT',
      '/v1/img/bodies/big.png',
      { 'Content-Type': 'image/png', Authorization: `Bearer ${uploadToken}` },
      png(64),
    ],
  ];
}

describe('bounded body reading (issue 10 item 3)', () => {
  it('stops reading a 32 MiB chunked body at the limit and answers 413, at every reader', async () => {
    for (const [kind, method, path, headers, first] of readers()) {
      const { stream, counter } = endless(32 * MiB, first);
      const res = await call(path, { method, headers, body: stream });
      expect([path, res.status]).toEqual([path, 413]);
      expect(res.headers.get('Content-Type') ?? '').toContain(kind === 'page' ? 'text/html' : 'application/json');
      if (kind === 'json') expect((await errorOf(res)).error).toMatch(/^invalid_(request|client_metadata)$/);
      else await res.text();
      // The image limit is 10 MiB (MAX_UPLOAD_BYTES); the forms' and JSON's 16 KiB. A few chunks in flight are allowed.
      expect([path, counter.pulled < (path.startsWith('/v1/img') ? 12 * MiB : 1 * MiB)]).toEqual([path, true]);
    }
    expect(await env.FILES.head(`${client.id}/bodies/big.png`)).toBeNull();
  });
});

describe('aborted bodies (issue 10 item 11)', () => {
  const cases = (): [string, string, string, Record<string, string>, Uint8Array][] => [
    [
      'json',
      'POST',
      '/oauth2/token',
      { ...FORM, Authorization: basic(client.id, client.secret) },
      text('grant_type=client_'),
    ],
    [
      'json',
      'PUT',
      '/v1/img/bodies/aborted.png',
      { 'Content-Type': 'image/png', Authorization: `Bearer ${uploadToken}` },
      png(4096),
    ],
    ['json', 'POST', '/v1/img', { 'Content-Type': MULTIPART, Authorization: `Bearer ${uploadToken}` }, multipartHead],
    ['page', 'POST', '/login', PAGE, text('email=a%40b.c&pass')],
    [
      'json',
      'POST',
      '/admin/clients',
      { ...JSON_TYPE, Authorization: `Bearer ${ADMIN_TOKEN}` },
      text('{"client_name":'),
    ],
    ['json', 'POST', '/oauth2/register', { ...JSON_TYPE, Authorization: `Bearer ${iat}` }, text('{"client_name":')],
  ];

  it('a body that breaks off is a 400 logged at info, never a 500 or an error-level line', async () => {
    for (const [kind, method, path, headers, prefix] of cases()) {
      lines.length = 0;
      const declared = { ...headers, 'Content-Length': String(prefix.byteLength * 4) };
      const res = await call(path, { method, headers: declared, body: broken(prefix) });
      expect([path, res.status]).toEqual([path, 400]);
      if (kind === 'json') expect((await errorOf(res)).description).toMatch(/ended after|broke off/);
      else expect(await res.text()).toContain('did not arrive in full');
      expect([path, lines.filter((l) => l.includes('"level":"error"') || l.includes('unhandled'))]).toEqual([path, []]);
      expect([path, lines.some((l) => l.includes('"level":"info"') && l.includes('"reason"'))]).toEqual([path, true]);
    }
    expect(await env.FILES.head(`${client.id}/bodies/aborted.png`)).toBeNull();
  });

  it('a body that ends before its Content-Length is a 400 that says so', async () => {
    for (const [kind, method, path, headers, prefix] of cases()) {
      const declared = { ...headers, 'Content-Length': String(prefix.byteLength * 4) };
      const res = await call(path, { method, headers: declared, body: short(prefix) });
      expect([path, res.status]).toEqual([path, 400]);
      const said = `ended after ${prefix.byteLength} of ${prefix.byteLength * 4} bytes`;
      if (kind === 'json') expect((await errorOf(res)).description).toContain(said);
      else expect(await res.text()).toContain('did not arrive in full');
    }
  });
});

describe('nothing but grant_type in the URL of a token request (issue 10 item 9, issue 11 item 1)', () => {
  it('refuses username, credentials, code_verifier, assertion and unknown names in the query string', async () => {
    const user = await seedUser();
    for (const name of [
      'username',
      'password',
      'client_secret',
      'code_verifier',
      'assertion',
      'scope',
      'unknown_thing',
    ]) {
      const params: Record<string, string> = { grant_type: 'password', username: user.email, password: user.password };
      delete params[name];
      const value = name === 'username' ? user.email : name === 'password' ? user.password : 'x';
      const res = await tokenRequest(params, { client, query: `${name}=${encodeURIComponent(value)}` });
      const err = await errorOf(res);
      expect([name, err.status, err.error]).toEqual([name, 400, 'invalid_request']);
      expect(err.description).toContain(`"${name}"`);
      expect(err.description).toContain('request body');
    }
  });

  it('refuses any query parameter at the revocation, introspection and registration endpoints', async () => {
    const auth = { Authorization: basic(client.id, client.secret) };
    for (const [path, headers, body] of [
      ['/oauth2/revoke?token=abc', { ...FORM, ...auth }, 'token_type_hint=refresh_token'],
      ['/oauth2/introspect?token=abc', { ...FORM, ...auth }, 'token_type_hint=access_token'],
      [
        '/oauth2/register?client_name=x',
        { ...JSON_TYPE, Authorization: `Bearer ${iat}` },
        '{"grant_types":["client_credentials"]}',
      ],
    ] as const) {
      const err = await errorOf(await call(path, { method: 'POST', headers, body }));
      expect([path, err.status, err.error]).toEqual([path, 400, 'invalid_request']);
      expect(err.description).toContain('request body');
    }
  });
});

describe('the registered token_endpoint_auth_method (issue 10 item 10)', () => {
  async function registered(method: string): Promise<{ id: string; secret: string; rat: string }> {
    const body = {
      client_name: `Method ${method}`,
      grant_types: ['client_credentials'],
      token_endpoint_auth_method: method,
    };
    const res = await call('/oauth2/register', {
      method: 'POST',
      headers: { ...JSON_TYPE, Authorization: `Bearer ${iat}` },
      body: JSON.stringify(body),
    });
    const reg = await json<{ client_id: string; client_secret: string; registration_access_token: string }>(res, 201);
    return { id: reg.client_id, secret: reg.client_secret, rat: reg.registration_access_token };
  }
  const post = (c: { id: string; secret: string }) =>
    tokenRequest({ grant_type: 'client_credentials', client_id: c.id, client_secret: c.secret });
  const viaBasic = (c: { id: string; secret: string }) =>
    tokenRequest({ grant_type: 'client_credentials' }, { client: c });

  it('reads client_secret_post back as registered, and accepts only that method', async () => {
    const c = await registered('client_secret_post');
    const read = await json<Record<string, unknown>>(
      await call(`/oauth2/register/${c.id}`, { headers: { Authorization: `Bearer ${c.rat}` } }),
      200,
    );
    expect(read.token_endpoint_auth_method).toBe('client_secret_post');
    await expectTokens(await post(c));
    const err = await errorOf(await viaBasic(c));
    expect([err.status, err.error]).toEqual([401, 'invalid_client']);
    expect(err.description).toContain('client_secret_post');
  });

  it('refuses client_secret_post from a client registered for client_secret_basic, at the token and revocation endpoints', async () => {
    const c = await registered('client_secret_basic');
    await expectTokens(await viaBasic(c));
    const err = await errorOf(await post(c));
    expect([err.status, err.error]).toEqual([401, 'invalid_client']);
    expect(err.description).toContain('HTTP Basic');
    const revoke = await call('/oauth2/revoke', {
      method: 'POST',
      headers: FORM,
      body: new URLSearchParams({ token: 'x', client_id: c.id, client_secret: c.secret }),
    });
    expect((await errorOf(revoke)).error).toBe('invalid_client');
  });
});

describe('initial access tokens (issue 10, also noticed)', () => {
  it('a max_uses 1 token is not spent by a registration refused for its metadata', async () => {
    const once = (
      await json<{ initial_access_token: string }>(await admin('POST', '/initial-access-tokens', { max_uses: 1 }), 201)
    ).initial_access_token;
    const register = (body: unknown) =>
      call('/oauth2/register', {
        method: 'POST',
        headers: { ...JSON_TYPE, Authorization: `Bearer ${once}` },
        body: JSON.stringify(body),
      });
    expect((await errorOf(await register({ grant_types: ['implicit'] }))).error).toBe('invalid_client_metadata');
    await json(await register({ client_name: 'After a refusal', grant_types: ['client_credentials'] }), 201);
    expect((await register({ client_name: 'Third', grant_types: ['client_credentials'] })).status).toBe(401);
  });
});
