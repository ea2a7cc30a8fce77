/** Reading a small JSON object body (admin API, RFC 7591 registration) with a clear error for anything else. */
import type { Context } from 'hono';
import { OAuthError } from '../../oauth/errors';

const MAX_JSON_BYTES = 16 * 1024;

export async function readJsonObject(c: Context, options: { optional?: boolean; code?: 'invalid_request' | 'invalid_client_metadata' } = {}): Promise<Record<string, unknown>> {
  const code = options.code ?? 'invalid_request';
  if (Number(c.req.header('Content-Length') ?? '0') > MAX_JSON_BYTES) {
    throw new OAuthError(code, `The JSON body is larger than ${MAX_JSON_BYTES} bytes.`, { status: 413 });
  }
  const text = await c.req.text();
  if (text.length > MAX_JSON_BYTES) throw new OAuthError(code, `The JSON body is larger than ${MAX_JSON_BYTES} bytes.`, { status: 413 });
  if (text.trim() === '' && options.optional) return {};
  const type = (c.req.header('Content-Type') ?? '').split(';')[0].trim().toLowerCase();
  if (type !== 'application/json') throw new OAuthError(code, 'Send the body as application/json.');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new OAuthError(code, 'The body is not valid JSON.');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new OAuthError(code, 'The body must be a JSON object.');
  return value as Record<string, unknown>;
}

/** An optional positive integer query or body value within bounds. */
export function intParam(value: unknown, name: string, min: number, max: number, fallback: number): number {
  if (value === undefined || value === null || value === '') return fallback;
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new OAuthError('invalid_request', `"${name}" must be a whole number from ${min} to ${max}.`);
  return n;
}
