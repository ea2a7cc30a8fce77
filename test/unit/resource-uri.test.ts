import { describe, expect, it } from 'vitest';
import { canonicalResourceUri, isCanonicalResourceUri } from '../../src/oauth/resource-uri';

const canon = (raw: string) => {
  const r = canonicalResourceUri(raw);
  return r.ok ? r.uri : `refused: ${r.reason}`;
};

describe('the canonical form of a resource URI (RFC 8707 §2)', () => {
  it('spellings of one resource compare equal', () => {
    for (const raw of [
      'https://mcp.example.com',
      'https://mcp.example.com/',
      'HTTPS://MCP.Example.COM',
      'https://mcp.example.com:443/',
      'https://mcp.example.com//',
    ]) {
      expect(canon(raw)).toBe('https://mcp.example.com');
    }
    for (const raw of [
      'https://api.example.com/v1',
      'https://api.example.com/v1/',
      'https://api.example.com/a/../v1',
    ]) {
      expect(canon(raw)).toBe('https://api.example.com/v1');
    }
    expect(canon('https://api.example.com:8443/mcp')).toBe('https://api.example.com:8443/mcp');
    expect(canon('http://localhost:8787/v1')).toBe('http://localhost:8787/v1');
    expect(canon('http://127.0.0.1:3000/mcp/')).toBe('http://127.0.0.1:3000/mcp');
    expect(canon('http://[::1]:3000')).toBe('http://[::1]:3000');
  });

  it('otherwise exact: the path keeps its case', () => {
    expect(canon('https://api.example.com/V1')).toBe('https://api.example.com/V1');
    expect(canon('https://api.example.com/V1')).not.toBe(canon('https://api.example.com/v1'));
  });

  it('refuses what is not a usable resource indicator', () => {
    expect(canon('https://mcp.example.com/#')).toMatch(/fragment/);
    expect(canon('https://mcp.example.com/x#frag')).toMatch(/fragment/);
    expect(canon('/v1')).toMatch(/absolute/);
    expect(canon('mcp.example.com')).toMatch(/absolute/);
    expect(canon('http://mcp.example.com')).toMatch(/https/);
    expect(canon('ftp://mcp.example.com')).toMatch(/https/);
    expect(canon('urn:example:resource')).toMatch(/https/);
    expect(canon('https://mcp.example.com/?a=1')).toMatch(/query/);
    expect(canon('https://mcp.example.com/?')).toMatch(/query/);
    expect(canon('https://user:pw@mcp.example.com')).toMatch(/user name/);
    expect(canon('https://mcp.example.com/a b')).toMatch(/spaces/);
    expect(canon(`https://mcp.example.com/${'a'.repeat(600)}`)).toMatch(/too long/);
  });

  it('isCanonicalResourceUri: only the canonical text itself', () => {
    expect(isCanonicalResourceUri('https://mcp.example.com')).toBe(true);
    expect(isCanonicalResourceUri('https://mcp.example.com/')).toBe(false);
    expect(isCanonicalResourceUri('https://MCP.example.com')).toBe(false);
  });
});
