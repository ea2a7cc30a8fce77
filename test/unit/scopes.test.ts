import { describe, expect, it } from 'vitest';
import { OAuthError } from '../../src/lib/errors';
import { assertScopesAllowed, formatScope, parseScope, scopeMask } from '../../src/oauth/scopes';

describe('scopes (seed 000/002)', () => {
  it('defaults to base when absent or blank', () => {
    expect(parseScope(undefined)).toEqual(['base']);
    expect(parseScope('  ')).toEqual(['base']);
  });

  it('canonicalises order and duplicates', () => {
    expect(parseScope('upload_files files files')).toEqual(['files', 'upload_files']);
    expect(formatScope(parseScope('upload_files base'))).toBe('base upload_files');
  });

  it('refuses unknown scopes with invalid_scope', () => {
    expect(() => parseScope('files admin')).toThrowError(OAuthError);
    try {
      parseScope('Files');
    } catch (e) {
      expect((e as OAuthError).code).toBe('invalid_scope');
      expect((e as OAuthError).description).toContain('Files');
    }
  });

  it('computes masks for the SQL subset test', () => {
    expect(scopeMask(['base'])).toBe(1);
    expect(scopeMask(['files', 'upload_files'])).toBe(6);
    expect(scopeMask(['base', 'files', 'upload_files'])).toBe(7);
  });

  it('checks a request against the allow-list', () => {
    expect(() => assertScopesAllowed(['files'], ['base', 'files'], 'x')).not.toThrow();
    expect(() => assertScopesAllowed(['upload_files'], ['base'], 'x')).toThrowError(/upload_files/);
  });
});
