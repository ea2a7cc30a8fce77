/**
 * src/lib/safe-fetch.ts: the SSRF rules on the URL as the runtime will read it, and the answer rules (no redirect,
 * 200 only, application/json, size cap while streaming, timeout, cache lifetime).
 */
import { describe, expect, it } from 'vitest';
import { ClientDocumentError, fetchClientDocument, maxAgeOf, refusedUrl } from '../../src/lib/safe-fetch';
import { interceptOutbound, jsonDocument } from '../outbound';

const OPTS = { maxBytes: 5120, timeoutMs: 200 };
const DOC = 'https://client.example.com/oauth/client.json';

describe('refusedUrl: SSRF targets', () => {
  const refused: Array<[string, string]> = [
    ['https://127.0.0.1/x', 'loopback'],
    ['https://127.1.2.3/x', 'loopback /8'],
    ['https://[::1]/x', 'IPv6 loopback'],
    ['https://10.0.0.1/x', '10/8'],
    ['https://172.16.0.1/x', '172.16/12'],
    ['https://172.31.255.255/x', '172.16/12 top'],
    ['https://192.168.1.1/x', '192.168/16'],
    ['https://169.254.169.254/latest/meta-data/', 'cloud metadata'],
    ['https://100.64.0.1/x', 'CGNAT'],
    ['https://0.0.0.0/x', 'unspecified'],
    ['https://224.0.0.1/x', 'multicast'],
    ['https://255.255.255.255/x', 'broadcast'],
    ['https://[fe80::1]/x', 'IPv6 link-local'],
    ['https://[fc00::1]/x', 'unique local'],
    ['https://[fd00:ec2::254]/x', 'AWS IPv6 metadata'],
    ['https://[::ffff:127.0.0.1]/x', 'IPv4-mapped loopback'],
    ['https://[::ffff:8.8.8.8]/x', 'IPv4-mapped (any)'],
    ['https://[::]/x', 'IPv6 unspecified'],
    ['https://[ff02::1]/x', 'IPv6 multicast'],
    ['https://[64:ff9b::a00:1]/x', 'NAT64 of 10.0.0.1'],
    ['https://[2002:7f00:1::]/x', '6to4 of 127.0.0.1'],
    ['https://2130706433/x', 'decimal 127.0.0.1'],
    ['https://0x7f000001/x', 'hex 127.0.0.1'],
    ['https://0177.0.0.1/x', 'octal 127.0.0.1'],
    ['https://0x7f.1/x', 'mixed short form'],
    ['https://3232235777/x', 'decimal 192.168.1.1'],
    ['https://localhost/x', 'localhost'],
    ['https://LOCALHOST./x', 'localhost, upper case, trailing dot'],
    ['https://api.localhost/x', '*.localhost'],
    ['https://printer.local/x', '.local'],
    ['https://metadata.google.internal/x', '.internal'],
    ['https://router.home.arpa/x', '.home.arpa'],
    ['https://intranet/x', 'single label'],
    ['http://client.example.com/x', 'plain http'],
    ['http://127.0.0.1/x', 'plain http to loopback'],
    ['ftp://client.example.com/x', 'other scheme'],
    ['https://user:pw@client.example.com/x', 'credentials'],
    ['https://client.example.com/x#frag', 'fragment'],
    ['not a url', 'not a URL'],
  ];
  for (const [url, what] of refused) {
    it(`refuses ${what}: ${url}`, () => {
      expect(refusedUrl(url)).toEqual(expect.any(String));
    });
  }

  it('the WHATWG parser is what normalises the numeric forms (the check sees 127.0.0.1)', () => {
    expect(new URL('https://2130706433/').hostname).toBe('127.0.0.1');
    expect(new URL('https://0x7f.1/').hostname).toBe('127.0.0.1');
    expect(new URL('https://[::ffff:127.0.0.1]/').hostname).toBe('[::ffff:7f00:1]');
  });

  for (const url of [
    DOC,
    'https://8.8.8.8/doc.json',
    'https://[2606:4700:4700::1111]/doc.json',
    'https://a.b.co:8443/c',
  ]) {
    it(`accepts a public https URL: ${url}`, () => {
      expect(refusedUrl(url)).toBeNull();
    });
  }
});

describe('maxAgeOf', () => {
  it('reads max-age, treats no-store/no-cache/private as 0 and absence as null', () => {
    expect(maxAgeOf('public, max-age=600')).toBe(600);
    expect(maxAgeOf('max-age="60"')).toBe(60);
    expect(maxAgeOf('no-store')).toBe(0);
    expect(maxAgeOf('max-age=600, no-cache')).toBe(0);
    expect(maxAgeOf('private, max-age=600')).toBe(0);
    expect(maxAgeOf(null)).toBeNull();
    expect(maxAgeOf('public')).toBeNull();
  });
});

async function failure(url: string): Promise<string> {
  try {
    await fetchClientDocument(url, OPTS);
  } catch (err) {
    expect(err).toBeInstanceOf(ClientDocumentError);
    return (err as ClientDocumentError).reason;
  }
  throw new Error('expected a ClientDocumentError');
}

describe('fetchClientDocument', () => {
  it('fetches a JSON document with redirect: manual, and returns its max-age', async () => {
    const out = interceptOutbound({ [DOC]: () => jsonDocument({ a: 1 }, { cacheControl: 'max-age=900' }) });
    await expect(fetchClientDocument(DOC, OPTS)).resolves.toEqual({ json: { a: 1 }, maxAgeSeconds: 900 });
    expect(out.requests).toHaveLength(1);
    expect(out.requests[0].redirect).toBe('manual');
    expect(out.requests[0].headers.get('Accept')).toBe('application/json');
  });

  it('never sends a request to a refused URL', async () => {
    const out = interceptOutbound();
    expect(await failure('https://169.254.169.254/latest/meta-data/')).toMatch(/private, loopback or reserved/);
    expect(await failure('http://client.example.com/doc.json')).toMatch(/must use https/);
    expect(out.requests).toHaveLength(0);
  });

  for (const target of ['https://127.0.0.1/doc.json', 'https://[::1]/doc.json', 'https://client.example.com/other']) {
    it(`refuses a redirect (to ${target}) without following it`, async () => {
      const out = interceptOutbound({
        [DOC]: () => new Response(null, { status: 302, headers: { Location: target } }),
        [target]: () => jsonDocument({ followed: true }),
      });
      expect(await failure(DOC)).toMatch(/redirect \(HTTP 302\); redirects are not followed/);
      expect(out.requests.map((r) => r.url)).toEqual([DOC]);
    });
  }

  it('refuses a non-200 answer', async () => {
    interceptOutbound({ [DOC]: () => jsonDocument({}, { status: 404 }) });
    expect(await failure(DOC)).toMatch(/HTTP 404 instead of 200/);
  });

  it('refuses a document that is not application/json', async () => {
    interceptOutbound({ [DOC]: () => jsonDocument('{"a":1}', { type: 'text/html' }) });
    expect(await failure(DOC)).toMatch(/not served as application\/json \(Content-Type "text\/html"\)/);
  });

  it('accepts application/json with a charset', async () => {
    interceptOutbound({ [DOC]: () => jsonDocument({ a: 1 }, { type: 'application/json; charset=utf-8' }) });
    await expect(fetchClientDocument(DOC, OPTS)).resolves.toMatchObject({ json: { a: 1 }, maxAgeSeconds: null });
  });

  it('refuses a document over the cap by its Content-Length', async () => {
    interceptOutbound({ [DOC]: () => jsonDocument({ pad: 'x'.repeat(6000) }) });
    expect(await failure(DOC)).toMatch(/larger than 5120 bytes/);
  });

  it('refuses a streamed (chunked) document at the cap, without reading the rest', async () => {
    let pulled = 0;
    interceptOutbound({
      [DOC]: () =>
        new Response(
          new ReadableStream<Uint8Array>({
            pull(controller) {
              pulled++;
              if (pulled > 1000) controller.close();
              else controller.enqueue(new TextEncoder().encode(' '.repeat(1024)));
            },
          }),
          { headers: { 'Content-Type': 'application/json' } },
        ),
    });
    expect(await failure(DOC)).toMatch(/larger than 5120 bytes/);
    expect(pulled).toBeLessThan(20);
  });

  it('refuses a body that is not JSON', async () => {
    interceptOutbound({ [DOC]: () => jsonDocument('{not json') });
    expect(await failure(DOC)).toMatch(/not valid JSON/);
  });

  it('gives up after the timeout', async () => {
    interceptOutbound({ [DOC]: () => new Promise<Response>(() => {}) });
    expect(await failure(DOC)).toMatch(/did not answer within 200 ms/);
  });

  it('an unreachable host is a ClientDocumentError too', async () => {
    interceptOutbound();
    expect(await failure(DOC)).toMatch(/could not be fetched/);
  });
});
