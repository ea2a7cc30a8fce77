/** Reading a small JSON object body (admin API, RFC 7591 registration) with a clear error for anything else. */
import type { Context } from 'hono';
import { readBodyText, type TextErrors, textErrors } from '../../lib/body';
import { OAuthError } from '../../lib/errors';
import { wholeNumber } from '../../oauth/admin-bodies';
import { parseBody } from '../../oauth/body-schema';

const MAX_JSON_BYTES = 16 * 1024;

/**
 * Reads a JSON object body (at most 16 KiB, counted while reading; strict UTF-8). The media type is checked before
 * a byte is read, except that an empty body may have none when `optional`.
 */
export async function readJsonObject(
  c: Context,
  options: { optional?: boolean; code?: 'invalid_request' | 'invalid_client_metadata' } = {},
): Promise<Record<string, unknown>> {
  const code = options.code ?? 'invalid_request';
  const type = (c.req.header('Content-Type') ?? '').split(';')[0].trim().toLowerCase();
  // Checked before reading: a body of another type is not read at all (an empty optional body may have no type).
  if (type !== 'application/json' && !options.optional) {
    throw new OAuthError(code, 'Send the body as application/json.');
  }
  const errors: TextErrors = {
    ...textErrors(code),
    tooLarge: (limit) => new OAuthError(code, `The JSON body is larger than ${limit} bytes.`, { status: 413 }),
  };
  const text = await readBodyText(c.req.raw, MAX_JSON_BYTES, errors);
  if (text.trim() === '' && options.optional) return {};
  if (type !== 'application/json') throw new OAuthError(code, 'Send the body as application/json.');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new OAuthError(code, 'The body is not valid JSON.');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new OAuthError(code, 'The body must be a JSON object.');
  return value as Record<string, unknown>;
}

/** An optional whole number query value within bounds (the rule: src/oauth/admin-bodies.ts `wholeNumber`). */
export function intParam(value: unknown, name: string, min: number, max: number, fallback: number): number {
  return parseBody(wholeNumber(name, min, max, fallback), value, 'invalid_request');
}
