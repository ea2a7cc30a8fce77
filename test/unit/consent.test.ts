/** src/oauth/consent.ts: what a remembered consent covers (issue 13: per resource, RFC 8707). */
import { describe, expect, it } from 'vitest';
import { consentCovers, consentWanted, NO_CONSENT } from '../../src/oauth/consent';
import type { ResourceServer } from '../../src/oauth/resource-target';

const V1: ResourceServer = {
  uri: 'https://auth.example/v1',
  name: 'API',
  scopes: ['base', 'files', 'upload_files'],
  builtin: true,
};
const A: ResourceServer = { uri: 'https://a.example', name: 'A', scopes: ['files', 'tools'], builtin: false };
const B: ResourceServer = { uri: 'https://b.example', name: 'B', scopes: ['tools'], builtin: false };

describe('consentWanted / consentCovers', () => {
  it('a /v1 request is bits only; another resource is entries, its scope never taken for ours', () => {
    expect(consentWanted([V1], ['base', 'openid'])).toEqual({ mask: 1 | 8, entries: [] });
    // A's scope spelt "files" is A's, not /v1's files bit.
    expect(consentWanted([A], ['files', 'openid'])).toEqual({
      mask: 8,
      entries: ['https://a.example', 'https://a.example files'],
    });
    const v1Files = consentWanted([V1], ['files']);
    expect(consentCovers(v1Files, consentWanted([A], ['files']))).toBe(false);
  });

  it('covers only each resource and each of its scopes that was allowed', () => {
    const granted = consentWanted([A], ['tools']);
    expect(consentCovers(granted, consentWanted([A], ['tools']))).toBe(true);
    expect(consentCovers(granted, consentWanted([A], ['tools', 'files']))).toBe(false);
    expect(consentCovers(granted, consentWanted([B], ['tools']))).toBe(false);
    expect(consentCovers(granted, consentWanted([A, B], ['tools']))).toBe(false);
    expect(consentCovers(granted, consentWanted([V1], ['base']))).toBe(false);
    expect(consentCovers(NO_CONSENT, consentWanted([A], []))).toBe(false);
    // A scope shared by two requested resources counts for both.
    const both = consentWanted([A, B], ['tools']);
    expect(both.entries).toEqual([
      'https://a.example',
      'https://a.example tools',
      'https://b.example',
      'https://b.example tools',
    ]);
    expect(consentCovers(both, consentWanted([B], ['tools']))).toBe(true);
  });
});
