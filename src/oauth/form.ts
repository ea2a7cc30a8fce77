/**
 * Reading `application/x-www-form-urlencoded` OAuth requests strictly (RFC 6749 §3.2, §2.3.1):
 * bounded size and valid UTF-8 (src/lib/body.ts), no repeated parameter, empty values treated as omitted (§3.1),
 * nothing but the token endpoint's grant_type from the query string (issue 11).
 */
import { readBodyText } from '../lib/body';
import { OAuthError } from '../lib/errors';

/** Far above any legitimate token request; larger bodies are refused before parsing. */
export const MAX_FORM_BYTES = 16 * 1024;

export type Params = Map<string, string>;

/**
 * Parameters that may be repeated: RFC 8707 §2 `resource` ("one or more"). The map keeps the first value, as for
 * any parameter; every value is kept aside and read with `allValues`.
 */
const REPEATABLE = new Set(['resource']);
const repeatedValues = new WeakMap<Params, Map<string, string[]>>();

/** Whether `name` may be repeated (RFC 8707 §2 `resource`). */
export function isRepeatable(name: string): boolean {
  return REPEATABLE.has(name);
}

/** Records one more value of a repeatable parameter (the map keeps the first). */
export function addRepeated(params: Params, name: string, value: string): void {
  const all = repeatedValues.get(params) ?? new Map<string, string[]>();
  repeatedValues.set(params, all);
  all.set(name, [...(all.get(name) ?? []), value]);
  if (!params.has(name)) params.set(name, value);
}

/** Every value of a repeatable parameter (`resource`), in order; [] when absent. */
export function allValues(params: Params, name: string): string[] {
  const all = repeatedValues.get(params)?.get(name);
  if (all) return [...all];
  const one = params.get(name);
  return one === undefined ? [] : [one];
}

function invalid(description: string, status = 400): OAuthError {
  return new OAuthError('invalid_request', description, { status });
}

/** Parses a urlencoded string into a map, refusing repeats and invalid percent-encoded UTF-8. */
export function parseUrlEncoded(text: string, where: string): Params {
  const params: Params = new Map();
  if (text === '') return params;
  for (const pair of text.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const rawName = eq === -1 ? pair : pair.slice(0, eq);
    const rawValue = eq === -1 ? '' : pair.slice(eq + 1);
    const name = decodeComponent(rawName, where);
    const value = decodeComponent(rawValue, where);
    if (value === '') continue; // RFC 6749 §3.1: a parameter without a value is as if omitted
    if (REPEATABLE.has(name)) {
      addRepeated(params, name, value);
      continue;
    }
    if (params.has(name)) {
      throw invalid(`The parameter "${name.slice(0, 40)}" is repeated in the ${where}; send each parameter once.`);
    }
    params.set(name, value);
  }
  return params;
}

function decodeComponent(raw: string, where: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    throw invalid(`The ${where} is not valid application/x-www-form-urlencoded UTF-8.`);
  }
}

/** How the query string of a form request is treated. */
export interface QueryRule {
  /**
   * Token endpoint only: `grant_type` may also be in the query (seed 000's curl repeats it in the URL). The body is
   * authoritative: a different query value is ignored and reported here, for an info log.
   */
  onQueryGrantType?: (queryValue: string, bodyValue: string) => void;
}

/**
 * The request's parameters, from the urlencoded body (RFC 6749 §3.2, RFC 7009 §2.1, RFC 7662 §2.1), at most
 * MAX_FORM_BYTES, strict UTF-8. Nothing else may come from the URL, where logs, history and Referer headers
 * would keep it (RFC 6749 §3.2 says POST, RFC 9700 §4.3.1): any other query parameter is invalid_request.
 */
export async function readFormRequest(req: Request, rule: QueryRule = {}): Promise<Params> {
  const contentType = (req.headers.get('Content-Type') ?? '').toLowerCase();
  const [mediaType, ...ctParams] = contentType.split(';').map((s) => s.trim());
  if (mediaType !== 'application/x-www-form-urlencoded') {
    throw invalid('Send the parameters as application/x-www-form-urlencoded in the request body.');
  }
  const charset = ctParams.find((p) => p.startsWith('charset='));
  if (charset && !['charset=utf-8', 'charset="utf-8"'].includes(charset)) {
    throw invalid('Only UTF-8 request bodies are accepted.');
  }
  const body = parseUrlEncoded(await readBodyText(req, MAX_FORM_BYTES, undefined, { form: true }), 'request body');
  if (!req.url.includes('?')) return body; // no query string: no URL to parse
  const query = parseUrlEncoded(new URL(req.url).search.slice(1), 'query string');
  for (const [name, value] of query) {
    if (name !== 'grant_type' || !rule.onQueryGrantType) {
      const what = name.slice(0, 40);
      throw invalid(`Do not put "${what}" in the URL; send it in the application/x-www-form-urlencoded request body.`);
    }
    const inBody = body.get(name);
    if (inBody === undefined) body.set(name, value);
    else if (inBody !== value) rule.onQueryGrantType(value, inBody);
  }
  return body;
}
