/**
 * Error descriptions are one readable sentence each (issue 11): these three used to be two fragments glued
 * together ("Unknown scope "x". Valid scopes: …", "No such endpoint. Discovery: …", "… not supported. Use one of: …").
 */
import { describe, expect, it } from 'vitest';
import { call, errorOf, seedClient, tokenRequest } from '../helpers';

/** One sentence: a capital first, one full stop at the very end, none before it except inside a quoted value or path. */
function expectOneSentence(description: string) {
  expect(description).toMatch(/^[A-Z]/);
  expect(description.endsWith('.')).toBe(true);
  const outsideQuotes = description.replace(/"[^"]*"/g, '""').replace(/\/\S+/g, '/x');
  expect(outsideQuotes.slice(0, -1)).not.toMatch(/[.:] [A-Z]/);
}

describe('error descriptions are single sentences', () => {
  it('an unknown scope', async () => {
    const client = await seedClient();
    const res = await tokenRequest({ grant_type: 'client_credentials', scope: 'files admin' }, { client });
    expect(res.status).toBe(400);
    expect(res.headers.get('Cache-Control')).toBe('no-store');
    const e = await errorOf(res);
    expect(e).toEqual({
      status: 400,
      error: 'invalid_scope',
      description:
        'The scope "admin" is unknown; the valid scopes are base, files, upload_files, openid, profile, email, offline_access.',
    });
    expectOneSentence(e.description);
  });

  it('an unknown path', async () => {
    const res = await call('/no/such/thing');
    expect(res.status).toBe(404);
    expect(res.headers.get('Content-Type')).toContain('application/json');
    const e = await errorOf(res);
    expect(e).toEqual({
      status: 404,
      error: 'invalid_request',
      description:
        'No such endpoint exists; the server metadata at /.well-known/oauth-authorization-server lists the endpoints.',
    });
    expectOneSentence(e.description);
  });

  it('an unsupported grant type', async () => {
    const client = await seedClient();
    const res = await tokenRequest({ grant_type: 'implicit' }, { client });
    expect(res.status).toBe(400);
    const e = await errorOf(res);
    expect(e.error).toBe('unsupported_grant_type');
    expect(e.description).toMatch(/^The grant type "implicit" is not supported; use one of [a-z_]+(, [a-z_]+)+\.$/);
    expectOneSentence(e.description);
  });
});
