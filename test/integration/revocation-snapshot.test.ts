/**
 * Regression: concurrent requests that find the deny-list snapshot stale must each get a good answer.
 * Sharing one request's in-flight D1 load with other requests made workerd fail them with "Cannot perform
 * I/O on behalf of a different request" (seen as rare 500s in the soak, once per snapshot reload).
 */
import { describe, expect, it } from 'vitest';
import { resetRevocationSnapshot } from '../../src/storage/revocations';
import { call, expectTokens, seedClient, tokenRequest } from '../helpers';

describe('deny-list snapshot reload under concurrency', () => {
  it('50 concurrent bearer requests on a stale snapshot all succeed', async () => {
    const client = await seedClient();
    const { access_token } = await expectTokens(await tokenRequest({ grant_type: 'client_credentials' }, { client }));
    for (let round = 0; round < 3; round++) {
      resetRevocationSnapshot();
      const statuses = await Promise.all(
        Array.from({ length: 50 }, async () => {
          const res = await call('/v1/me', { headers: { Authorization: `Bearer ${access_token}` } });
          await res.arrayBuffer();
          return res.status;
        }),
      );
      expect(statuses).toEqual(Array(50).fill(200));
    }
  });
});
