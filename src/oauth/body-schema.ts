/**
 * Running a valibot schema over a request body: the first issue becomes one `OAuthError` whose description is the
 * issue's message, a sentence naming the field (RFC 6749 §5.2, RFC 7591 §3.2.2). Pure, no I/O.
 */
import * as v from 'valibot';
import { OAuthError, type OAuthErrorCode } from '../lib/errors';

/** Parses `input` with `schema`, or throws `code` with the first issue's message (schemas list fields in the order checked). */
export function parseBody<S extends v.GenericSchema>(
  schema: S,
  input: unknown,
  code: OAuthErrorCode,
): v.InferOutput<S> {
  const parsed = v.safeParse(schema, input);
  if (!parsed.success) throw new OAuthError(code, parsed.issues[0].message);
  return parsed.output;
}

/** An optional string of `min` to `max` characters; `null` counts as absent (RFC 7591 §2 allows either). */
export function nullishString(field: string, max: number) {
  const message = `"${field}" must be a string of 1 to ${max} characters.`;
  return v.nullish(v.pipe(v.string(message), v.minLength(1, message), v.maxLength(max, message)));
}

/** An optional array of at most `max` strings; `null` counts as absent. */
export function nullishStringArray(field: string, max: number) {
  const message = `"${field}" must be an array of at most ${max} strings.`;
  return v.nullish(v.pipe(v.array(v.string(message), message), v.maxLength(max, message)));
}
