/**
 * Every response carries X-Request-Id (src/middleware/request-context.ts), whatever built it: a JSON handler,
 * a handler returning its own Response, the error renderer, the not-found handler. The header is added to the
 * final Response in place, so this also checks that no kind of response loses it.
 */
import { describe, expect, it } from 'vitest';
import { call, expectTokens, seedClient, tokenRequest } from '../helpers';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('X-Request-Id', () => {
  it('is on a JSON answer, an error, a 404, an asset and a token response', async () => {
    const client = await seedClient();
    const token = await tokenRequest({ grant_type: 'client_credentials' }, { client });
    expect(token.headers.get('X-Request-Id')).toMatch(UUID);
    const { access_token } = await expectTokens(token);
    const responses = [
      await call('/v1/me', { headers: { Authorization: `Bearer ${access_token}` } }),
      await call('/v1/me'),
      await call('/no/such/path'),
      await call('/assets/style.css'),
      await call('/.well-known/jwks.json'),
    ];
    expect(responses.map((r) => r.status)).toEqual([200, 401, 404, 200, 200]);
    for (const res of responses) expect(res.headers.get('X-Request-Id')).toMatch(UUID);
    // Kept exactly once even where the handler set other headers itself.
    expect(responses[0].headers.get('Cache-Control')).toBe('no-store');
    expect(responses[1].headers.get('WWW-Authenticate')).toMatch(/^Bearer /);
  });

  it('reuses a well-formed incoming id (cf-ray or X-Request-Id) and replaces a malformed one', async () => {
    const echoed = await call('/.well-known/jwks.json', { headers: { 'X-Request-Id': 'trace-123_abc' } });
    expect(echoed.headers.get('X-Request-Id')).toBe('trace-123_abc');
    const ray = await call('/.well-known/jwks.json', { headers: { 'cf-ray': '8f1e2d3c4b5a6978-CDG' } });
    expect(ray.headers.get('X-Request-Id')).toBe('8f1e2d3c4b5a6978-CDG');
    const bad = await call('/.well-known/jwks.json', { headers: { 'X-Request-Id': 'a b<script>' } });
    expect(bad.headers.get('X-Request-Id')).toMatch(UUID);
  });
});
