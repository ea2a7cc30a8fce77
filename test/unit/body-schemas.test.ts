/**
 * Issue 12: the request-body schemas (src/oauth/). Each refused body gets one sentence naming the field, with the
 * code and wording the endpoints have always used; the portal form lists every problem at once.
 */
import { describe, expect, it } from 'vitest';
import { OAuthError } from '../../src/lib/errors';
import { CreateUserBody, InitialAccessTokenBody, PasswordBody, RotateKeysBody } from '../../src/oauth/admin-bodies';
import { validateAppInput } from '../../src/oauth/app-form';
import { parseBody } from '../../src/oauth/body-schema';
import { validateClientMetadata } from '../../src/oauth/client-metadata';

function refusal(f: () => unknown): { code: string; description: string } {
  try {
    f();
  } catch (err) {
    if (err instanceof OAuthError) return { code: err.code, description: err.description };
    throw err;
  }
  throw new Error('not refused');
}

const base = { client_name: 'App', redirect_uris: ['https://app.example/cb'] };

describe('RFC 7591 client metadata schema', () => {
  it.each([
    [{ client_name: 7 }, '"client_name" must be a string of 1 to 100 characters.'],
    [
      // client_secret_jwt is not offered (it needs the secret in the clear); private_key_jwt is (issue 13).
      { token_endpoint_auth_method: 'client_secret_jwt' },
      '"token_endpoint_auth_method" must be one of: client_secret_basic, client_secret_post, private_key_jwt, none.',
    ],
    [{ grant_types: 'authorization_code' }, '"grant_types" must be an array of at most 4 strings.'],
    [{ grant_types: [1] }, '"grant_types" must be an array of at most 4 strings.'],
    [{ response_types: ['code', 'code', 'code'] }, '"response_types" must be an array of at most 2 strings.'],
    [{ redirect_uris: 'https://app.example/cb' }, '"redirect_uris" must be an array of at most 10 strings.'],
    [{ scope: null }, '"scope" must be a space-separated string.'],
    [{ client_uri: '' }, '"client_uri" must be a string of 1 to 2000 characters.'],
    [{ client_uri: 'ftp://app.example' }, '"client_uri" must be an https URL.'],
    [{ description: 'x'.repeat(501) }, '"description" must be a string of 1 to 500 characters.'],
  ])('refuses %j', (field, description) => {
    expect(refusal(() => validateClientMetadata({ ...base, ...field }))).toEqual({
      code: 'invalid_client_metadata',
      description,
    });
  });

  it('treats null as absent where RFC 7591 allows it, and applies the defaults', () => {
    const m = validateClientMetadata({
      ...base,
      token_endpoint_auth_method: null,
      client_uri: null,
      grant_types: null,
    });
    expect(m).toMatchObject({ authMethod: 'client_secret_basic', siteUrl: null, grantTypes: ['authorization_code'] });
  });

  it('keeps invalid_redirect_uri for a refused redirect URI', () => {
    expect(refusal(() => validateClientMetadata({ ...base, redirect_uris: ['https://app.example/cb#x'] })).code).toBe(
      'invalid_redirect_uri',
    );
  });
});

describe('admin body schemas', () => {
  const parse = (schema: Parameters<typeof parseBody>[0], body: unknown) =>
    refusal(() => parseBody(schema, body, 'invalid_request'));

  it.each([
    [CreateUserBody, { email: 'no-at-sign' }, '"email" must be an email address.'],
    [CreateUserBody, {}, '"email" must be an email address.'],
    [
      CreateUserBody,
      { email: 'a@b.example', password: 'short' },
      '"password" must be a string of 8 to 1024 characters (omit it to generate one).',
    ],
    [
      PasswordBody,
      { password: null },
      '"password" must be a string of 8 to 1024 characters (omit it to generate one).',
    ],
    [RotateKeysBody, { force: 'yes' }, '"force" must be true or false.'],
    [InitialAccessTokenBody, { expires_in: 10 }, '"expires_in" must be a whole number from 60 to 31622400.'],
    [InitialAccessTokenBody, { max_uses: 1.5 }, '"max_uses" must be a whole number from 1 to 1000000.'],
    [InitialAccessTokenBody, { label: 'x'.repeat(101) }, '"label" must be a string of at most 100 characters.'],
  ])('refuses %#', (schema, body, description) => {
    expect(parse(schema, body)).toEqual({ code: 'invalid_request', description });
  });

  it('applies the defaults and accepts numeric strings, as the hand-written checks did', () => {
    expect(parseBody(InitialAccessTokenBody, {}, 'invalid_request')).toEqual({ expires_in: 86_400 });
    expect(parseBody(InitialAccessTokenBody, { expires_in: '120', max_uses: null }, 'invalid_request')).toEqual({
      expires_in: 120,
      max_uses: null,
    });
  });
});

describe('portal app form schema', () => {
  it('lists every problem, in the order of the form', () => {
    const result = validateAppInput({
      name: '',
      siteUrl: 'not a url',
      description: 'x'.repeat(501),
      logoUrl: 'http://app.example/logo.png',
      redirectUris: '',
      scopes: [],
      clientType: 'public',
      refreshTokenPolicy: 'reuse',
    });
    expect(result).toEqual({
      ok: false,
      errors: [
        'Give your application a name.',
        'The description is longer than 500 characters.',
        'The site URL is not a valid web address; it should look like https://example.com.',
        'The logo URL must start with https://.',
        'Add at least one redirect URL: where people are sent back after they allow or deny access.',
        'Choose at least one permission your application may ask for.',
        'A mobile, desktop or browser application always gets a new refresh token on every use (RFC 9700 §4.14.2): choose "a new refresh token every time".',
      ],
    });
  });
});
