/** src/lib/body.ts, the one bounded body reader, called directly on Requests made here. */
import { describe, expect, it } from 'vitest';
import { readBodyBytes, readBodyText } from '../../src/lib/body';
import { OAuthError } from '../../src/lib/errors';

const bytes = (n: number) => new Uint8Array(n).fill(0x61);

function post(body: BodyInit, headers: Record<string, string> = {}) {
  return new Request('https://as.example/x', { method: 'POST', headers, body });
}

async function failure(p: Promise<unknown>): Promise<OAuthError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof OAuthError) return e;
    throw e;
  }
  throw new Error('expected an OAuthError');
}

describe('readBodyBytes', () => {
  it('stops a chunked body at the first chunk past the limit and cancels the rest', async () => {
    let pulled = 0;
    let cancelled = false;
    const stream = new ReadableStream<Uint8Array>({
      pull: (c) => {
        pulled += 1024;
        c.enqueue(bytes(1024));
      },
      cancel: () => {
        cancelled = true;
      },
    });
    const err = await failure(readBodyBytes(post(stream), 4096));
    expect([err.code, err.status]).toEqual(['invalid_request', 413]);
    expect(pulled).toBeLessThanOrEqual(6 * 1024);
    expect(cancelled).toBe(true);
  });

  it('refuses a declared length above the limit before reading, and a malformed one', async () => {
    expect((await failure(readBodyBytes(post(bytes(10), { 'Content-Length': '99999' }), 100))).status).toBe(413);
    expect((await failure(readBodyBytes(post(bytes(10), { 'Content-Length': '1e3' }), 100))).description).toContain(
      'malformed',
    );
  });

  it('a body shorter than its Content-Length, or one whose read fails, is a 400 with an internal reason', async () => {
    const short = new ReadableStream<Uint8Array>({
      start: (c) => {
        c.enqueue(bytes(5));
        c.close();
      },
    });
    const a = await failure(readBodyBytes(post(short, { 'Content-Length': '20' }), 100));
    expect([a.status, a.description]).toEqual([
      400,
      'The request body ended after 5 of 20 bytes; send the request again.',
    ]);
    expect(a.reason).toContain('shorter');
    let sent = false;
    const broken = new ReadableStream<Uint8Array>({
      pull: (c) => {
        if (sent) return c.error(new Error('reset'));
        sent = true;
        c.enqueue(bytes(3));
      },
    });
    const b = await failure(readBodyBytes(post(broken), 100));
    expect([b.status, b.description]).toEqual([
      400,
      'The request body broke off after 3 bytes; send the request again.',
    ]);
    expect(b.reason).toContain('reset');
  });
});

describe('readBodyText', () => {
  it('decodes strict UTF-8 and refuses invalid bytes, as a form with a declared length and streamed', async () => {
    const bad = new Uint8Array([0x61, 0xff]);
    expect((await failure(readBodyText(post(bad), 100))).description).toContain('UTF-8');
    const declared = post(bad, { 'Content-Length': '2' });
    expect(await failure(readBodyText(declared, 100, undefined, { form: true }))).toMatchObject({ status: 400 });
    expect(await readBodyText(post(new TextEncoder().encode('caf\u00e9')), 100)).toBe('caf\u00e9');
  });
});
