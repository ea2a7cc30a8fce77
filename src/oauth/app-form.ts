/**
 * The app registration form of the portal (seed 003: name, site URL, description, logo, redirect URLs),
 * checked field by field with messages a person can act on.
 */

import * as v from 'valibot';
import { OAuthError } from '../lib/errors';
import { validateClientPolicy } from './client-policy';
import { validateRedirectUri } from './redirect-uri';
import { SCOPES, type Scope } from './scopes';

export interface AppInput {
  name: string;
  siteUrl: string;
  description: string;
  logoUrl: string;
  /** One per line in the form. */
  redirectUris: string;
  scopes: Scope[];
  /** Public clients (native and browser apps) have no secret and must use PKCE. */
  clientType: 'confidential' | 'public';
  /** Issue 11: `reuse` keeps one refresh token for its lifetime; web applications (confidential) only. */
  refreshTokenPolicy: 'rotate' | 'reuse';
}

export interface AppValues {
  name: string;
  siteUrl: string | null;
  description: string | null;
  logoUrl: string | null;
  redirectUris: string[];
  scopes: Scope[];
  confidential: boolean;
  refreshTokenPolicy: 'rotate' | 'reuse';
}

export const MAX_REDIRECT_URIS = 10;

/** Reads the form fields into an AppInput (for re-display) without judging them. */
export function readAppForm(form: Map<string, string>): AppInput {
  return {
    name: (form.get('name') ?? '').trim(),
    siteUrl: (form.get('site_url') ?? '').trim(),
    description: (form.get('description') ?? '').trim(),
    logoUrl: (form.get('logo_url') ?? '').trim(),
    redirectUris: form.get('redirect_uris') ?? '',
    scopes: SCOPES.filter((s) => form.has(`scope_${s}`)), // one checkbox per scope
    clientType: form.get('client_type') === 'public' ? 'public' : 'confidential',
    refreshTokenPolicy: form.get('refresh_token_policy') === 'reuse' ? 'reuse' : 'rotate',
  };
}

function webUrlError(label: string, value: string, httpsOnly: boolean): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `${label} is not a valid web address; it should look like https://example.com.`;
  }
  if (url.protocol !== 'https:' && (httpsOnly || url.protocol !== 'http:')) return `${label} must start with https://.`;
  if (url.username || url.password) return `${label} must not contain a user name or password.`;
  return value.length > 2000 ? `${label} is longer than 2000 characters.` : null;
}

/** One check per URL field, whose message is the rule that failed (none for an empty field: it is optional). */
function webUrlField(label: string, httpsOnly: boolean) {
  return v.pipe(
    v.string(),
    v.check(
      (value) => !value || webUrlError(label, value, httpsOnly) === null,
      (issue) => webUrlError(label, String(issue.input), httpsOnly) ?? '',
    ),
  );
}

/** The redirect URLs, one per line, trimmed and without repeats. */
const redirectUriList = (text: string) => [
  ...new Set(
    text
      .split(/\r?\n/)
      .map((s) => s.trim())
      .filter(Boolean),
  ),
];

/**
 * The form's field rules, in the order a person reads the form. Every field is checked (valibot collects all
 * issues unless told to abort early), so the page lists every problem at once.
 */
const AppFormSchema = v.object({
  name: v.pipe(
    v.string(),
    v.check((name) => name.length > 0, 'Give your application a name.'),
    v.check((name) => name.length <= 100, 'The name is longer than 100 characters.'),
  ),
  description: v.pipe(v.string(), v.maxLength(500, 'The description is longer than 500 characters.')),
  siteUrl: webUrlField('The site URL', false),
  logoUrl: webUrlField('The logo URL', true),
  redirectUris: v.pipe(
    v.string(),
    v.transform(redirectUriList),
    v.rawCheck(({ dataset, addIssue }) => {
      if (!dataset.typed) return;
      const uris = dataset.value;
      if (uris.length === 0)
        addIssue({
          message: 'Add at least one redirect URL: where people are sent back after they allow or deny access.',
        });
      if (uris.length > MAX_REDIRECT_URIS)
        addIssue({ message: `Register at most ${MAX_REDIRECT_URIS} redirect URLs.` });
      for (const uri of uris.slice(0, MAX_REDIRECT_URIS)) {
        const e = validateRedirectUri(uri);
        if (e) addIssue({ message: `${uri.length > 80 ? `${uri.slice(0, 80)}…` : uri}: ${e}` });
      }
    }),
  ),
  scopes: v.pipe(
    v.array(v.picklist(SCOPES)),
    v.minLength(1, 'Choose at least one permission your application may ask for.'),
  ),
});

/** Returns the cleaned values, or the list of problems (one sentence each). */
export function validateAppInput(input: AppInput): { ok: true; values: AppValues } | { ok: false; errors: string[] } {
  const parsed = v.safeParse(AppFormSchema, input);
  const errors = parsed.success ? [] : parsed.issues.map((issue) => issue.message);
  // The same rule as the admin API (src/oauth/client-policy.ts): a public app's refresh tokens always rotate.
  try {
    validateClientPolicy(
      { refresh_token_policy: input.refreshTokenPolicy },
      { confidential: input.clientType === 'confidential', via: 'admin' },
    );
  } catch (err) {
    if (!(err instanceof OAuthError)) throw err;
    errors.push(
      'A mobile, desktop or browser application always gets a new refresh token on every use (RFC 9700 §4.14.2): choose "a new refresh token every time".',
    );
  }
  if (!parsed.success || errors.length > 0) return { ok: false, errors };
  return {
    ok: true,
    values: {
      name: input.name,
      siteUrl: input.siteUrl || null,
      description: input.description || null,
      logoUrl: input.logoUrl || null,
      redirectUris: parsed.output.redirectUris,
      scopes: input.scopes,
      confidential: input.clientType === 'confidential',
      refreshTokenPolicy: input.refreshTokenPolicy,
    },
  };
}
