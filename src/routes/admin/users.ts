/** Admin API: users (create, disable/enable, reset password). A user is named by id or by email. */
import { type Context, Hono } from 'hono';
import { OAuthError } from '../../lib/errors';
import { randomToken } from '../../lib/random';
import { CreateUserBody, PasswordBody, ProfileBody } from '../../oauth/admin-bodies';
import { parseBody } from '../../oauth/body-schema';
import {
  createUserAudited,
  resetUserPassword,
  setUserStatus,
  updateUserProfileAudited,
} from '../../services/user-account';
import { getUserByEmail, getUserById, type User } from '../../storage/users';
import type { AppEnv } from '../../types';
import { readJsonObject } from './json-body';

export const adminUserRoutes = new Hono<AppEnv>();

/** Never includes the password hash. */
const userView = (u: User) => ({
  id: u.id,
  email: u.email,
  status: u.status,
  created_at: u.createdAt,
  updated_at: u.updatedAt,
  ...u.profile, // issue 15: OpenID Connect standard claims
});

async function mustGet(db: D1Database, idOrEmail: string): Promise<User> {
  const user = idOrEmail.includes('@') ? await getUserByEmail(db, idOrEmail) : await getUserById(db, idOrEmail);
  if (!user) throw new OAuthError('invalid_request', `No user "${idOrEmail.slice(0, 100)}".`, { status: 404 });
  return user;
}

/** The given password, or a generated one (returned once to the operator). */
function passwordFrom(given: string | undefined): { password: string; generated: boolean } {
  return given === undefined ? { password: randomToken(18), generated: true } : { password: given, generated: false };
}

adminUserRoutes.post('/', async (c) => {
  const { email, ...body } = parseBody(CreateUserBody, await readJsonObject(c), 'invalid_request');
  const { password, generated } = passwordFrom(body.password);
  if (await getUserByEmail(c.env.DB, email))
    throw new OAuthError('invalid_request', 'A user with this email already exists.', { status: 409 });
  const user = await createUserAudited(c.env, email, password, c.get('requestId')); // one batch with its audit row
  c.header('Cache-Control', 'no-store');
  return c.json({ ...userView(user), ...(generated ? { password } : {}) }, 201);
});

adminUserRoutes.get('/:user', async (c) => c.json(userView(await mustGet(c.env.DB, c.req.param('user')))));

async function setStatus(c: Context<AppEnv>, status: 'active' | 'disabled') {
  const user = await mustGet(c.env.DB, c.req.param('user') ?? '');
  const updated = await setUserStatus(c.env, user.id, status, c.get('requestId'));
  if (!updated) throw new OAuthError('invalid_request', `No user "${user.id}".`, { status: 404 });
  return c.json(userView(updated));
}

/** Issue 15: edits the OpenID Connect standard claims (Core §5.1) released by UserInfo; updated_at moves. */
adminUserRoutes.patch('/:user', async (c) => {
  const user = await mustGet(c.env.DB, c.req.param('user'));
  const changes = parseBody(ProfileBody, await readJsonObject(c), 'invalid_request');
  // One batch with its audit row (src/services/user-account.ts).
  const updated = await updateUserProfileAudited(c.env, user.id, changes, c.get('requestId'));
  if (!updated) throw new OAuthError('invalid_request', `No user "${user.id}".`, { status: 404 });
  return c.json(userView(updated));
});

/** Disabling signs the user out everywhere: sessions ended, refresh tokens revoked, access tokens on the deny-list. */
adminUserRoutes.post('/:user/disable', (c) => setStatus(c, 'disabled'));
adminUserRoutes.post('/:user/enable', (c) => setStatus(c, 'active'));

adminUserRoutes.post('/:user/password', async (c) => {
  const user = await mustGet(c.env.DB, c.req.param('user'));
  const { password, generated } = passwordFrom(
    parseBody(PasswordBody, await readJsonObject(c, { optional: true }), 'invalid_request').password,
  );
  await resetUserPassword(c.env, user.id, password, c.get('requestId')); // ends every session of the user
  c.header('Cache-Control', 'no-store');
  return c.json({ ...userView(user), ...(generated ? { password } : {}) });
});
