import { describe, expect, it } from 'vitest';
import { findRedirectUri, redirectUriMatches, validateRedirectUri } from '../../src/oauth/redirect-uri';

describe('validateRedirectUri', () => {
  it.each([
    'https://app.example/cb',
    'https://app.example:8443/cb?tenant=1',
    'http://127.0.0.1/cb',
    'http://127.0.0.1:8080/callback',
    'http://[::1]:9000/cb',
    'com.example.app:/oauth2redirect',
    'com.example.app://callback',
    'http://localhost/cb',
    'http://localhost:33418/oauth/callback',
  ])('accepts %s', (uri) => {
    expect(validateRedirectUri(uri)).toBeNull();
  });

  it.each([
    ['https://app.example/cb#frag', /fragment/],
    ['https://*.app.example/cb', /Wildcards/],
    ['https://app.example/*', /Wildcards/],
    ['http://app.example/cb', /loopback/],
    ['http://localhost.evil.example/cb', /loopback/],
    ['http://LOCALHOST:3000/cb', /reads differently once parsed/],
    ['http://localhost:0/cb', /from 1 to 65535/],
    ['cursor://anysphere.cursor-retrieval/cb', /reverse domain/],
    ['http://127.0.0.1.evil.example/cb', /loopback/],
    ['javascript:alert(1)', /cannot be used/],
    ['data:text/html,hi', /cannot be used/],
    ['myapp:/cb', /reverse domain/],
    ['https://user:pw@app.example/cb', /user name/],
    ['https://app.example/c b', /spaces/],
    ['/relative/cb', /not a valid absolute URL/],
    ['https://app.example/café', /percent-encode/],
    ['https://app.example/cb\r\nSet-Cookie: x=1', /spaces or control/],
    ['', /empty/],
    ['http://127.0.0.1:0/cb', /from 1 to 65535/],
    ['http://127.0.0.1:65536/cb', /from 1 to 65535/],
    ['http://[::1]:08080/cb', /from 1 to 65535/],
    ['https:evil.example/cb', /exactly as "https:\/\/evil\.example\/cb"/],
    ['https://app.example\\@evil.example/cb', /exactly as "https:\/\/app\.example\/@evil\.example\/cb"/],
    ['https://app.example', /reads differently once parsed/],
    ['http://127.0.0.1:80/cb', /reads differently once parsed/],
  ])('refuses %s with a clear message', (uri, message) => {
    const result = validateRedirectUri(uri);
    expect(result).not.toBeNull();
    expect(result).toMatch(message);
  });
});

describe('redirectUriMatches (RFC 9700 §4.1.3)', () => {
  const reg = 'https://app.example/cb';
  it('matches the identical string', () => expect(redirectUriMatches(reg, reg)).toBe(true));
  it.each([
    ['trailing slash', 'https://app.example/cb/'],
    ['case of the host', 'https://APP.example/cb'],
    ['case of the path', 'https://app.example/CB'],
    ['extra query', 'https://app.example/cb?x=1'],
    ['explicit default port', 'https://app.example:443/cb'],
    ['other port on a non-loopback host', 'https://app.example:8443/cb'],
    ['fragment', 'https://app.example/cb#x'],
    ['encoded path', 'https://app.example/%63b'],
  ])('refuses a %s', (_what, presented) => {
    expect(redirectUriMatches(reg, presented)).toBe(false);
  });
  it('lets the port of a loopback IP vary (RFC 8252 §7.3)', () => {
    expect(redirectUriMatches('http://127.0.0.1/cb', 'http://127.0.0.1:51234/cb')).toBe(true);
    expect(redirectUriMatches('http://127.0.0.1:80/cb', 'http://127.0.0.1:9/cb')).toBe(true);
    expect(redirectUriMatches('http://[::1]:1/cb', 'http://[::1]:2/cb')).toBe(true);
  });
  it('refuses a loopback port that is not a TCP port (0, over 65535, leading zero, empty)', () => {
    for (const port of ['0', '65536', '99999', '08080', '']) {
      expect(redirectUriMatches('http://127.0.0.1/cb', `http://127.0.0.1:${port}/cb`), port).toBe(false);
    }
    expect(redirectUriMatches('http://127.0.0.1/cb', 'http://127.0.0.1:65535/cb')).toBe(true);
    expect(redirectUriMatches('http://127.0.0.1:0/cb', 'http://127.0.0.1:0/cb')).toBe(false); // stored before the rule
  });
  it('still compares host, path and query of loopback URIs exactly', () => {
    expect(redirectUriMatches('http://127.0.0.1/cb', 'http://127.0.0.1:5000/cb/')).toBe(false);
    expect(redirectUriMatches('http://127.0.0.1/cb', 'http://[::1]:5000/cb')).toBe(false);
    expect(redirectUriMatches('http://127.0.0.1/cb', 'http://127.0.0.1:5000/cb?x')).toBe(false);
    expect(redirectUriMatches('http://localhost/cb', 'http://127.0.0.1:5000/cb')).toBe(false);
    expect(redirectUriMatches('http://127.0.0.1/cb', 'http://localhost:5000/cb')).toBe(false);
    expect(redirectUriMatches('http://[::1]/cb', 'http://localhost:5000/cb')).toBe(false);
    expect(redirectUriMatches('http://localhost/cb', 'http://localhost:5000/cb?x')).toBe(false);
  });
  it('findRedirectUri picks the registered entry', () => {
    expect(findRedirectUri(['https://a.example/1', 'http://127.0.0.1/cb'], 'http://127.0.0.1:7/cb')).toBe(
      'http://127.0.0.1/cb',
    );
    expect(findRedirectUri(['https://a.example/1'], 'https://a.example/2')).toBeNull();
  });
});

describe('issue 13: localhost and app schemes for agents', () => {
  it('lets the port of http://localhost vary, matching only localhost (RFC 8252 §7.3; MCP uses localhost)', () => {
    expect(redirectUriMatches('http://localhost/cb', 'http://localhost:5000/cb')).toBe(true);
    expect(redirectUriMatches('http://localhost:3000/oauth/callback', 'http://localhost:61234/oauth/callback')).toBe(
      true,
    );
    expect(redirectUriMatches('http://localhost/cb', 'http://localhost:65536/cb')).toBe(false);
    expect(redirectUriMatches('http://localhost/cb', 'http://localhost.evil.example:5000/cb')).toBe(false);
  });
  it.each([
    'cursor://anysphere.cursor-retrieval/oauth/callback',
    'vscode://vscode.github-authentication/did-authenticate',
    'myapp:/cb',
  ])('accepts the app scheme %s for a public client only (RFC 8252 §7.1)', (uri) => {
    expect(validateRedirectUri(uri, { publicClient: true })).toBeNull();
    expect(validateRedirectUri(uri)).toMatch(/reverse domain/);
  });
  it.each([
    ['javascript:alert(1)', /cannot be used/],
    ['data:text/html,x', /cannot be used/],
    ['mailto:a@b.example', /not an app's own scheme/],
    ['wss://evil.example/cb', /not an app's own scheme/],
    ['ab:/cb', /reverse domain/],
    ['http://app.example/cb', /loopback/],
  ])('still refuses %s for a public client', (uri, message) => {
    expect(validateRedirectUri(uri, { publicClient: true })).toMatch(message);
  });
});
