import { describe, expect, it } from 'vitest';
import { expectTokens, seedClient, tokenRequest } from '../helpers';

describe('smoke', () => {
  it('issues a client_credentials token', async () => {
    const client = await seedClient();
    const body = await expectTokens(await tokenRequest({ grant_type: 'client_credentials' }, { client }));
    expect(body.token_type).toBe('Bearer');
    expect(body.scope).toBe('base');
  });
});
