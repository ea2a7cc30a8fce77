/**
 * The JSON bodies of the admin API (src/routes/admin/), as valibot schemas: each field's type and bounds, with a
 * one-sentence message naming the field (RFC 6749 §5.2 `invalid_request`). Pure rules, no I/O.
 */
import * as v from 'valibot';
import { MAX_RESOURCES } from './resource-target';

export const MIN_PASSWORD = 8;
export const MAX_PASSWORD = 1024;

const PASSWORD_MESSAGE = `"password" must be a string of ${MIN_PASSWORD} to ${MAX_PASSWORD} characters (omit it to generate one).`;
const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,255}$/;
const EMAIL_MESSAGE = '"email" must be an email address.';

/** Omitted: the server generates one. `null` is refused, not taken for "generate". */
const password = v.optional(
  v.pipe(
    v.string(PASSWORD_MESSAGE),
    v.minLength(MIN_PASSWORD, PASSWORD_MESSAGE),
    v.maxLength(MAX_PASSWORD, PASSWORD_MESSAGE),
  ),
);

/** POST /admin/users. The email is kept as sent; only its trimmed form is checked. A missing email reads as ''. */
export const CreateUserBody = v.object({
  email: v.pipe(
    v.optional(v.string(EMAIL_MESSAGE), ''),
    v.check((e) => EMAIL.test(e.trim()), EMAIL_MESSAGE),
  ),
  password,
});

/** POST /admin/users/:user/password (the body may be empty). */
export const PasswordBody = v.object({ password });

/** POST /admin/keys/rotate (the body may be empty). */
export const RotateKeysBody = v.object({ force: v.optional(v.boolean('"force" must be true or false.')) });

/**
 * A whole number from `min` to `max`, given as a number or a numeric string (query parameters, and bodies written
 * by hand); absent, `null` or `''` gives `fallback`.
 */
export function wholeNumber(name: string, min: number, max: number, fallback: number) {
  const message = `"${name}" must be a whole number from ${min} to ${max}.`;
  return v.pipe(
    v.unknown(),
    v.transform((value) => (value === undefined || value === null || value === '' ? fallback : value)),
    v.check((value) => {
      const n = typeof value === 'number' ? value : Number(value);
      return Number.isInteger(n) && n >= min && n <= max;
    }, message),
    v.transform((value) => (typeof value === 'number' ? value : Number(value))),
  );
}

/** POST /admin/initial-access-tokens (the body may be empty). `max_uses` absent or `null`: no limit. */
export const InitialAccessTokenBody = v.object({
  expires_in: v.optional(wholeNumber('expires_in', 60, 366 * 86_400, 86_400), 86_400),
  max_uses: v.nullish(wholeNumber('max_uses', 1, 1_000_000, 1)),
  label: v.optional(
    v.pipe(
      v.string('"label" must be a string of at most 100 characters.'),
      v.maxLength(100, '"label" must be a string of at most 100 characters.'),
    ),
  ),
});

const claimString = (name: string, max: number) =>
  v.optional(
    v.nullable(
      v.pipe(
        v.string(`"${name}" must be a string or null.`),
        v.maxLength(max, `"${name}" is longer than ${max} characters.`),
      ),
    ),
  );

/**
 * PATCH /admin/users/:user: the OpenID Connect standard claims (Core §5.1), each optional; null clears one.
 * `picture` must be an https URL; `locale` a BCP 47 tag (Core §5.1: e.g. "en-US").
 */
export const ProfileBody = v.strictObject(
  {
    name: claimString('name', 200),
    given_name: claimString('given_name', 100),
    family_name: claimString('family_name', 100),
    picture: v.optional(
      v.nullable(
        v.pipe(
          v.string('"picture" must be a URL.'),
          v.maxLength(2000, '"picture" is longer than 2000 characters.'),
          v.regex(/^https:\/\/[^\s]+$/, '"picture" must be an https URL.'),
        ),
      ),
    ),
    locale: v.optional(
      v.nullable(
        v.pipe(
          v.string('"locale" must be a string.'),
          v.regex(/^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$/, '"locale" must be a language tag such as "en-US".'),
        ),
      ),
    ),
    email_verified: v.optional(v.boolean('"email_verified" must be true or false.')),
  },
  'Only name, given_name, family_name, picture, locale and email_verified can be changed here.',
);

const ALLOWED_RESOURCES_MESSAGE =
  '"allowed_resources" must be null (every registered resource) or a list of 1 to 10 resource URIs.';

/**
 * `allowed_resources` of POST/PATCH /admin/clients (issue 13, RFC 8707 §2: which resources a client may ask for):
 * absent keeps the stored value, `null` allows every registered resource, else 1 to MAX_RESOURCES URIs. An empty
 * list is refused: a client that may ask for nothing is a disabled client (POST /admin/clients/:id/disable).
 * Whether each is registered is checked with storage (src/services/allowed-resources.ts).
 */
export const AllowedResourcesBody = v.object({
  allowed_resources: v.optional(
    v.nullable(
      v.pipe(
        v.array(v.string(ALLOWED_RESOURCES_MESSAGE), ALLOWED_RESOURCES_MESSAGE),
        v.minLength(1, ALLOWED_RESOURCES_MESSAGE),
        v.maxLength(MAX_RESOURCES, ALLOWED_RESOURCES_MESSAGE),
      ),
    ),
  ),
});
