import { describe, expect, it } from 'vitest';
import { basic, call, errorOf, seedClient, tokenRequest } from '../helpers';

/** Every RFC 6749 §5.2 error is JSON with error + error_description, no-store, and the right status. */
async function expectOAuthError(res: Response, status: number, error: string) {
  expect(res.status).toBe(status);
  expect(res.headers.get('Content-Type')).toMatch(/^application\/json/);
  expect(res.headers.get('Cache-Control')).toBe('no-store');
  const body = await res.json<Record<string, string>>();
  expect(body.error).toBe(error);
  expect(typeof body.error_description).toBe('string');
  expect(body.error_description.length).toBeGreaterThan(10);
  return body;
}

describe('token endpoint errors (RFC 6749 §5.2)', () => {
  it('invalid_request: missing grant_type', async () => {
    const client = await seedClient();
    await expectOAuthError(await tokenRequest({}, { client }), 400, 'invalid_request');
  });

  it('unsupported_grant_type: unknown and abandoned grants', async () => {
    const client = await seedClient();
    for (const g of ['implicit', 'urn:ietf:params:oauth:grant-type:device_code', '__proto__', 'toString']) {
      const body = await expectOAuthError(
        await tokenRequest({ grant_type: g }, { client }),
        400,
        'unsupported_grant_type',
      );
      expect(body.error_description).toContain('client_credentials');
    }
  });

  it('invalid_client: 401 with WWW-Authenticate: Basic', async () => {
    const res = await tokenRequest({ grant_type: 'client_credentials' }, { client: { id: 'nobody', secret: 'x' } });
    await expectOAuthError(res, 401, 'invalid_client');
    expect(res.headers.get('WWW-Authenticate')).toContain('Basic');
  });

  it('invalid_grant, invalid_scope, unauthorized_client: 400', async () => {
    const client = await seedClient({ grantTypes: ['client_credentials', 'refresh_token'], scopes: ['files'] });
    await expectOAuthError(
      await tokenRequest({ grant_type: 'refresh_token', refresh_token: 'x' }, { client }),
      400,
      'invalid_grant',
    );
    await expectOAuthError(
      await tokenRequest({ grant_type: 'client_credentials', scope: 'base' }, { client }),
      400,
      'invalid_scope',
    );
    await expectOAuthError(
      await tokenRequest({ grant_type: 'password', username: 'a', password: 'b' }, { client }),
      400,
      'unauthorized_client',
    );
  });

  it('repeated parameter: invalid_request', async () => {
    const client = await seedClient();
    const res = await call('/oauth2/token', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: basic(client.id, client.secret) },
      body: 'grant_type=client_credentials&scope=files&scope=base',
    });
    const body = await expectOAuthError(res, 400, 'invalid_request');
    expect(body.error_description).toContain('"scope" is repeated');
  });

  it('client_secret in the query string: invalid_request telling where to put it', async () => {
    const client = await seedClient();
    const res = await call(`/oauth2/token?client_id=${client.id}&client_secret=${client.secret}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials',
    });
    const body = await expectOAuthError(res, 400, 'invalid_request');
    expect(body.error_description).toContain('request body');
  });

  it('GET on the token endpoint: 405 invalid_request with Allow', async () => {
    const res = await call('/oauth2/token?grant_type=client_credentials');
    await expectOAuthError(res, 405, 'invalid_request');
    expect(res.headers.get('Allow')).toBe('POST');
  });
});

describe('malformed input never produces a 5xx', () => {
  const client = { id: 'x', secret: 'y' };
  const cases: [string, RequestInit][] = [
    [
      'JSON body',
      { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"grant_type":"client_credentials"}' },
    ],
    ['no content type', { method: 'POST', body: 'grant_type=client_credentials' }],
    [
      'multipart',
      {
        method: 'POST',
        body: (() => {
          const f = new FormData();
          f.set('grant_type', 'client_credentials');
          return f;
        })(),
      },
    ],
    [
      'invalid UTF-8',
      {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new Uint8Array([0x67, 0x3d, 0xc3, 0x28]),
      },
    ],
    [
      'bad percent-encoding',
      { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'grant_type=%E0%A4%A' },
    ],
    [
      '1 MB body',
      {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: `grant_type=client_credentials&x=${'a'.repeat(1024 * 1024)}`,
      },
    ],
    [
      '10 KB Authorization header',
      {
        method: 'POST',
        headers: {
          'Content-Type': 'application/x-www-form-urlencoded',
          Authorization: `Basic ${'A'.repeat(10 * 1024)}`,
        },
        body: 'grant_type=client_credentials',
      },
    ],
    [
      '10 KB client_id',
      {
        method: 'POST',
        headers: {
          'Content-Type': 'application/x-www-form-urlencoded',
          Authorization: basic('i'.repeat(10 * 1024), 's'),
        },
        body: 'grant_type=client_credentials',
      },
    ],
    ['empty body', { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } }],
    [
      'only separators',
      { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: '&&&==&' },
    ],
    [
      'NUL in values',
      {
        method: 'POST',
        headers: {
          'Content-Type': 'application/x-www-form-urlencoded',
          Authorization: basic(client.id, client.secret),
        },
        body: 'grant_type=client_credentials%00&scope=%00',
      },
    ],
    [
      'Basic without colon',
      {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: `Basic ${btoa('abc')}` },
        body: 'grant_type=client_credentials',
      },
    ],
    [
      'unknown auth scheme',
      {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: 'Digest abc' },
        body: 'grant_type=client_credentials',
      },
    ],
  ];
  for (const [name, init] of cases) {
    it(name, async () => {
      const res = await call('/oauth2/token', init);
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      const err = await errorOf(res);
      expect(['invalid_request', 'invalid_client', 'unsupported_grant_type']).toContain(err.error);
      expect(err.description).toBeTruthy();
    });
  }
});
