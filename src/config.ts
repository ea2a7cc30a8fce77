/**
 * Configuration from wrangler.toml [vars] and secrets, validated once per isolate (per env object).
 * A missing or malformed setting makes every request answer 500 server_error naming the setting.
 */
import * as v from 'valibot';

/** The algorithms the ring signs with: ES256/EdDSA for access tokens, RS256 too for ID tokens (OIDC Core §15.1). */
export type SigningAlg = 'ES256' | 'EdDSA' | 'RS256';

export interface SigningJwk {
  kty: string;
  kid: string;
  alg: SigningAlg;
  crv?: string;
  x?: string;
  y?: string;
  /** RSA members (RS256 keys). */
  n?: string;
  e?: string;
  d: string;
  p?: string;
  q?: string;
  dp?: string;
  dq?: string;
  qi?: string;
}

export interface Config {
  issuer: string;
  audience: string;
  accessTokenTtl: number;
  refreshTokenTtl: number;
  /**
   * REFRESH_REUSE_GRACE_SECONDS (issue 16, docs/reliability.md): how long after a rotation the parent refresh token
   * may be presented again, while its successor was never used, without counting as reuse (the reply was lost);
   * 0 disables it.
   */
  refreshReuseGraceSeconds: number;
  authCodeTtl: number;
  maxUploadBytes: number;
  /**
   * IMAGE_EDGE_CACHE_SECONDS: how long a colo's edge-cached copy of an image may be served after an overwrite or
   * delete made elsewhere (src/files/edge-cache.ts); 0 turns the edge cache off.
   */
  imageEdgeCacheSeconds: number;
  /** Share (0–1) of successful requests (status < 400) that get an access log line; failures always do. */
  requestLogSampleRate: number;
  /** Private JWKs from the SIGNING_KEYS secret; the first signs, all verify. */
  signingKeys: SigningJwk[];
  /** 32 raw bytes decoded from KEY_ENCRYPTION_KEY (AES-GCM key wrap, cookie HMAC). */
  keyEncryptionKey: Uint8Array;
  /** Undefined disables the admin API. */
  adminToken?: string;
  /**
   * DEMO_CALLBACK_CLIENT_ID: the client whose code-exchange `curl` the local demo page /demo/callback shows.
   * Set only by `npm start` (`--var`); unset (every deploy) the page does not exist.
   */
  demoCallbackClientId?: string;
  /** Issue 13: who may use POST /oauth2/register without an initial access token (src/oauth/registration-policy.ts). */
  registrationPolicy: RegistrationPolicy;
  /** Issue 13: a client registered without an initial access token is deleted after this many days unused. */
  openClientIdleDays: number;
}

/**
 * REGISTRATION_POLICY (issue 13): `initial-token` (default: RFC 7591 §3 with an initial access token from the
 * administrator), `open-public` (anyone may register a public PKCE client for the code flow), `open` (also
 * confidential clients, never with the password or client_credentials grant without an initial access token).
 */
export const REGISTRATION_POLICIES = ['initial-token', 'open-public', 'open'] as const;
export type RegistrationPolicy = (typeof REGISTRATION_POLICIES)[number];

export class ConfigError extends Error {
  constructor(
    readonly setting: string,
    detail: string,
  ) {
    super(`Server configuration error: ${setting} ${detail}`);
    this.name = 'ConfigError';
  }
}

const intSetting = (min: number, max: number, fallback: number) =>
  v.pipe(
    v.optional(v.string(), String(fallback)),
    v.regex(/^\d+$/, 'must be a whole number'),
    v.transform(Number),
    v.minValue(min, `must be at least ${min}`),
    v.maxValue(max, `must be at most ${max}`),
  );

/** RFC 8414 §2: the issuer is an https URL with no query or fragment (http allowed for loopback development). */
const issuerSetting = v.pipe(
  v.string('is missing'),
  v.check((s) => {
    try {
      const u = new URL(s);
      const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(u.hostname);
      return (
        (u.protocol === 'https:' || (u.protocol === 'http:' && loopback)) && !u.search && !u.hash && !s.endsWith('/')
      );
    } catch {
      return false;
    }
  }, 'must be an https URL without query, fragment or trailing slash'),
);

const kidSchema = v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{1,64}$/));
const jwkSchema = v.union([
  v.object({
    kty: v.picklist(['EC', 'OKP']),
    kid: kidSchema,
    alg: v.picklist(['ES256', 'EdDSA']),
    crv: v.picklist(['P-256', 'Ed25519']),
    x: v.string(),
    y: v.optional(v.string()),
    d: v.string(),
  }),
  // OpenID Connect Core §15.1: RS256 is mandatory for ID tokens; access tokens never use it.
  v.object({
    kty: v.literal('RSA'),
    kid: kidSchema,
    alg: v.literal('RS256'),
    n: v.string(),
    e: v.string(),
    d: v.string(),
    p: v.string(),
    q: v.string(),
    dp: v.string(),
    dq: v.string(),
    qi: v.string(),
  }),
]);

const signingKeysSetting = v.pipe(
  v.string('is missing'),
  v.rawTransform(({ dataset, addIssue, NEVER }) => {
    try {
      return JSON.parse(dataset.value) as unknown;
    } catch {
      addIssue({ message: 'is not valid JSON' });
      return NEVER;
    }
  }),
  v.object({
    keys: v.pipe(
      v.array(jwkSchema, 'must hold private JWKs with kid, alg (ES256, EdDSA or RS256) and their key members'),
      v.minLength(1, 'must hold at least one key'),
      v.check(
        (keys) => keys.some((k) => k.alg !== 'RS256'),
        'must hold at least one ES256 or EdDSA key (access tokens)',
      ),
    ),
  }),
  v.transform((set) => set.keys as SigningJwk[]),
);

const base64url32 = v.pipe(
  v.string('is missing'),
  v.rawTransform(({ dataset, addIssue, NEVER }) => {
    const bytes = decodeBase64url(dataset.value);
    if (bytes?.length !== 32) {
      addIssue({ message: 'must be 32 random bytes, base64url-encoded (43 characters)' });
      return NEVER;
    }
    return bytes;
  }),
);

const schema = v.object({
  ISSUER: issuerSetting,
  ACCESS_TOKEN_AUDIENCE: v.pipe(v.string('is missing'), v.minLength(1, 'is empty')),
  ACCESS_TOKEN_TTL: intSetting(60, 86_400, 3600),
  REFRESH_TOKEN_TTL: intSetting(3600, 31_536_000, 2_592_000),
  // A retry after a lost reply comes within a client's request timeout (typically 10 to 30 s); 300 s at most, since
  // the window is the time a stolen parent token stays usable while the client holds an unused successor.
  REFRESH_REUSE_GRACE_SECONDS: intSetting(0, 300, 30),
  AUTH_CODE_TTL: intSetting(10, 600, 60),
  MAX_UPLOAD_BYTES: intSetting(1024, 100 * 1024 * 1024, 10 * 1024 * 1024),
  IMAGE_EDGE_CACHE_SECONDS: intSetting(0, 86_400, 60),
  REQUEST_LOG_SAMPLE_RATE: v.pipe(
    v.optional(v.string(), '1'),
    v.regex(/^(0(\.\d+)?|1(\.0+)?)$/, 'must be a number from 0 to 1'),
    v.transform(Number),
  ),
  SIGNING_KEYS: signingKeysSetting,
  KEY_ENCRYPTION_KEY: base64url32,
  ADMIN_TOKEN: v.optional(v.pipe(v.string(), v.minLength(32, 'must be at least 32 characters'))),
  // Same character set as a client_id (RFC 6749 §A.1, src/storage/clients.ts isPlausibleClientId); empty means unset.
  DEMO_CALLBACK_CLIENT_ID: v.optional(
    v.pipe(v.string(), v.regex(/^([\x21-\x7e]{1,128})?$/, 'must be a client_id (1 to 128 visible ASCII characters)')),
  ),
  REGISTRATION_POLICY: v.optional(
    v.picklist(REGISTRATION_POLICIES, `must be one of: ${REGISTRATION_POLICIES.join(', ')}`),
    'initial-token',
  ),
  OPEN_CLIENT_IDLE_DAYS: intSetting(1, 3650, 30),
});

function decodeBase64url(s: string): Uint8Array | null {
  if (!/^[A-Za-z0-9_-]*$/.test(s)) return null;
  try {
    const bin = atob(s.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (s.length % 4)) % 4));
    return Uint8Array.from(bin, (ch) => ch.charCodeAt(0));
  } catch {
    return null;
  }
}

const cache = new WeakMap<object, Config | ConfigError>();

/** The validated configuration for this env; throws ConfigError (cached, so it is logged once per isolate). */
export function getConfig(env: Env): Config {
  let entry = cache.get(env);
  if (!entry) {
    entry = parseConfig(env as unknown as Record<string, unknown>);
    cache.set(env, entry);
    if (entry instanceof ConfigError) {
      console.error(
        JSON.stringify({ level: 'error', event: 'config_invalid', setting: entry.setting, message: entry.message }),
      );
    }
  }
  if (entry instanceof ConfigError) throw entry;
  return entry;
}

function parseConfig(env: Record<string, unknown>): Config | ConfigError {
  const result = v.safeParse(schema, env);
  if (!result.success) {
    const issue = result.issues[0];
    const setting = String(issue.path?.[0]?.key ?? 'configuration');
    return new ConfigError(setting, issue.message);
  }
  const o = result.output;
  return {
    issuer: o.ISSUER,
    audience: o.ACCESS_TOKEN_AUDIENCE,
    accessTokenTtl: o.ACCESS_TOKEN_TTL,
    refreshTokenTtl: o.REFRESH_TOKEN_TTL,
    refreshReuseGraceSeconds: o.REFRESH_REUSE_GRACE_SECONDS,
    authCodeTtl: o.AUTH_CODE_TTL,
    maxUploadBytes: o.MAX_UPLOAD_BYTES,
    imageEdgeCacheSeconds: o.IMAGE_EDGE_CACHE_SECONDS,
    requestLogSampleRate: o.REQUEST_LOG_SAMPLE_RATE,
    signingKeys: o.SIGNING_KEYS,
    keyEncryptionKey: o.KEY_ENCRYPTION_KEY,
    adminToken: o.ADMIN_TOKEN,
    demoCallbackClientId: o.DEMO_CALLBACK_CLIENT_ID || undefined,
    registrationPolicy: o.REGISTRATION_POLICY,
    openClientIdleDays: o.OPEN_CLIENT_IDLE_DAYS,
  };
}
