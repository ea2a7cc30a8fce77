import { describe, expect, it } from 'vitest';
import { OAuthError } from '../../src/lib/errors';
import { MAX_FORM_BYTES, parseUrlEncoded, readFormRequest } from '../../src/oauth/form';
import { parseBasicAuth } from '../../src/services/client-auth';

function form(body: BodyInit, query = '', contentType = 'application/x-www-form-urlencoded') {
  return new Request(`https://as.example/oauth2/token${query}`, {
    method: 'POST',
    headers: { 'Content-Type': contentType },
    body,
  });
}

async function codeOf(p: Promise<unknown>): Promise<[string, number, string]> {
  try {
    await p;
  } catch (e) {
    const err = e as OAuthError;
    return [err.code, err.status, err.description];
  }
  throw new Error('expected an OAuthError');
}

describe('parseUrlEncoded', () => {
  it('decodes + and percent-escapes, drops empty values (RFC 6749 §3.1)', () => {
    const p = parseUrlEncoded('a=b+c&d=%C3%A9&e=&f', 'body');
    expect(Object.fromEntries(p)).toEqual({ a: 'b c', d: 'é' });
  });
  it('refuses repeated parameters (RFC 6749 §3.2)', () => {
    expect(() => parseUrlEncoded('a=1&a=2', 'body')).toThrowError(/repeated/);
  });
  it('refuses broken percent-encoding', () => {
    expect(() => parseUrlEncoded('a=%ZZ', 'body')).toThrowError(OAuthError);
    expect(() => parseUrlEncoded('a=%C3', 'body')).toThrowError(OAuthError);
  });
});

describe('readFormRequest', () => {
  const tokenRule = (seen: string[][]) => ({ onQueryGrantType: (q: string, b: string) => void seen.push([q, b]) });
  it('takes grant_type from the query when it matches, or when the body has none (seed 000)', async () => {
    const seen: string[][] = [];
    expect(
      (await readFormRequest(form('grant_type=password&username=u', '?grant_type=password'), tokenRule(seen))).get(
        'grant_type',
      ),
    ).toBe('password');
    expect((await readFormRequest(form('username=u', '?grant_type=password'), tokenRule(seen))).get('grant_type')).toBe(
      'password',
    );
    expect(seen).toEqual([]);
  });
  it("keeps the body's grant_type when the query differs, and reports it (issue 11)", async () => {
    const seen: string[][] = [];
    const p = await readFormRequest(form('grant_type=refresh_token', '?grant_type=password'), tokenRule(seen));
    expect(p.get('grant_type')).toBe('refresh_token');
    expect(seen).toEqual([['password', 'refresh_token']]);
  });
  it('refuses every other query parameter, and grant_type where the endpoint has no such rule', async () => {
    for (const name of [
      'client_secret',
      'password',
      'username',
      'refresh_token',
      'code',
      'code_verifier',
      'assertion',
      'scope',
      'whatever',
    ]) {
      const [code, , desc] = await codeOf(readFormRequest(form('grant_type=password', `?${name}=x`), tokenRule([])));
      expect(code).toBe('invalid_request');
      expect(desc).toContain(`"${name}"`);
      expect(desc).toContain('request body');
    }
    expect((await codeOf(readFormRequest(form('token=t', '?grant_type=password'))))[0]).toBe('invalid_request');
  });
  it('refuses other content types', async () => {
    const [code, , desc] = await codeOf(readFormRequest(form('{"grant_type":"x"}', '', 'application/json')));
    expect(code).toBe('invalid_request');
    expect(desc).toContain('x-www-form-urlencoded');
  });
  it('accepts charset=UTF-8 and refuses other charsets', async () => {
    expect((await readFormRequest(form('a=1', '', 'application/x-www-form-urlencoded; charset=UTF-8'))).get('a')).toBe(
      '1',
    );
    expect(
      (await codeOf(readFormRequest(form('a=1', '', 'application/x-www-form-urlencoded; charset=latin1'))))[0],
    ).toBe('invalid_request');
  });
  it('refuses invalid UTF-8 bytes, with a declared length and streamed', async () => {
    const bad = new Uint8Array([0x61, 0x3d, 0xff, 0xfe]);
    const declared = new Request('https://as.example/oauth2/token', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': String(bad.byteLength) },
      body: bad,
    });
    const streamed = new Request('https://as.example/oauth2/token', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new ReadableStream({
        start: (c) => {
          c.enqueue(bad);
          c.close();
        },
      }),
    });
    for (const req of [declared, streamed]) {
      const [code, status, desc] = await codeOf(readFormRequest(req));
      expect([code, status]).toEqual(['invalid_request', 400]);
      expect(desc).toContain('UTF-8');
    }
  });
  it('reads a valid body either way, raw UTF-8 included', async () => {
    const body = new TextEncoder().encode('grant_type=client_credentials&name=caf\u00e9');
    const declared = new Request('https://as.example/oauth2/token', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': String(body.byteLength) },
      body,
    });
    const streamed = new Request('https://as.example/oauth2/token', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new ReadableStream({
        start: (c) => {
          c.enqueue(body);
          c.close();
        },
      }),
    });
    for (const req of [declared, streamed])
      expect(Object.fromEntries(await readFormRequest(req))).toEqual({
        grant_type: 'client_credentials',
        name: 'caf\u00e9',
      });
  });
  it('refuses a body over the limit with 413', async () => {
    const [code, status] = await codeOf(readFormRequest(form(`a=${'x'.repeat(MAX_FORM_BYTES)}`)));
    expect([code, status]).toEqual(['invalid_request', 413]);
  });
});

describe('parseBasicAuth (RFC 6749 §2.3.1)', () => {
  const b64 = (s: string) => btoa(s);
  it('form-decodes id and secret', () => {
    expect(parseBasicAuth(`Basic ${b64('my%3Aid:s+e%2Bc')}`)).toEqual({ id: 'my:id', secret: 's e+c' });
  });
  it('accepts any case of the scheme', () => {
    expect(parseBasicAuth(`basic ${b64('a:b')}`)).toEqual({ id: 'a', secret: 'b' });
  });
  it('ignores other schemes and absent headers', () => {
    expect(parseBasicAuth(undefined)).toBeNull();
    expect(parseBasicAuth('Bearer abc')).toBeNull();
  });
  it('refuses malformed Basic credentials with invalid_client and a challenge', () => {
    for (const h of ['Basic !!!', `Basic ${b64('no-colon')}`, `Basic ${b64('a:%ZZ')}`]) {
      try {
        parseBasicAuth(h);
        throw new Error('no throw');
      } catch (e) {
        const err = e as OAuthError;
        expect(err.code).toBe('invalid_client');
        expect(err.status).toBe(401);
        expect(err.headers['WWW-Authenticate']).toMatch(/^Basic /);
      }
    }
  });
});
