import { describe, expect, it } from 'vitest';
import { ORIGIN, expectTokens, seedClient, seedUser, tokenRequest } from '../helpers';
import { Browser, authorizePath, hiddenFields, locationParams, pkcePair, signIn } from '../authz-helpers';

describe('code flow smoke', () => {
  it('runs end to end', async () => {
    const client = await seedClient();
    const user = await seedUser();
    const b = new Browser();
    const { verifier, challenge } = await pkcePair();
    const path = authorizePath({ response_type: 'code', client_id: client.id, redirect_uri: 'https://app.example/cb', state: 'xyz', code_challenge: challenge, code_challenge_method: 'S256', scope: 'base files' });
    const first = await b.get(path);
    expect(first.status).toBe(302);
    const login = first.headers.get('Location')!;
    expect(login.startsWith('/login?next=')).toBe(true);
    const signed = await signIn(b, user.email, user.password, decodeURIComponent(login.slice('/login?next='.length)));
    expect(signed.status).toBe(303);
    const consent = await b.get(signed.headers.get('Location')!);
    expect(consent.status).toBe(200);
    const html = await consent.text();
    console.log(consent.headers.get('Content-Security-Policy'));
    const fields = hiddenFields(html);
    const decided = await b.post('/oauth2/authorize', { ...fields, decision: 'allow' });
    expect(decided.status).toBe(303);
    const q = locationParams(decided);
    expect(q.get('state')).toBe('xyz');
    expect(q.get('iss')).toBe(ORIGIN);
    const tokens = await expectTokens(await tokenRequest({ grant_type: 'authorization_code', code: q.get('code')!, redirect_uri: 'https://app.example/cb', code_verifier: verifier }, { client }));
    expect(tokens.refresh_token).toBeTruthy();
    expect(tokens.scope).toBe('base files');
  });
});
