/** Users (resource owners) in D1. Email is unique case-insensitively (COLLATE NOCASE). */
import { nowSeconds } from '../lib/clock';
import { hashPassword } from '../lib/password';
import { randomId } from '../lib/random';
import { PROFILE_FIELDS, type UserProfile } from '../oauth/user-profile';

export { PROFILE_FIELDS, type UserProfile };

export interface User {
  id: string;
  email: string;
  passwordHash: string;
  status: 'active' | 'disabled';
  createdAt: number;
  updatedAt: number;
  /** OpenID Connect Core §5.1 standard claims (migrations/0012). */
  profile: UserProfile;
}

interface UserRow {
  id: string;
  email: string;
  password_hash: string;
  status: 'active' | 'disabled';
  created_at: number;
  updated_at: number;
  name?: string | null;
  given_name?: string | null;
  family_name?: string | null;
  picture?: string | null;
  locale?: string | null;
  email_verified?: number;
}

const fromRow = (r: UserRow): User => ({
  id: r.id,
  email: r.email,
  passwordHash: r.password_hash,
  status: r.status,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  profile: {
    name: r.name ?? null,
    given_name: r.given_name ?? null,
    family_name: r.family_name ?? null,
    picture: r.picture ?? null,
    locale: r.locale ?? null,
    email_verified: r.email_verified === 1,
  },
});

/**
 * The UPDATE of the standard claims given (the rest unchanged) and updated_at; RETURNING *: no row when there is no
 * such user.
 */
export function updateUserProfileStatement(
  db: D1Database,
  id: string,
  changes: Partial<UserProfile>,
): D1PreparedStatement {
  const sets: string[] = [];
  const values: (string | number | null)[] = [];
  for (const f of PROFILE_FIELDS) {
    if (!(f in changes)) continue;
    const v = changes[f];
    values.push(f === 'email_verified' ? (v ? 1 : 0) : ((v as string | null | undefined) ?? null));
    sets.push(`${f} = ?${values.length + 2}`);
  }
  return db
    .prepare(`UPDATE users SET ${[...sets, 'updated_at = ?2'].join(', ')} WHERE id = ?1 RETURNING *`)
    .bind(id, nowSeconds(), ...values);
}

/** Normalised form of an email for lookups and throttling keys. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

export function userByEmailStatement(db: D1Database, email: string): D1PreparedStatement {
  return db.prepare('SELECT * FROM users WHERE email = ?1').bind(normalizeEmail(email));
}

export function userByIdStatement(db: D1Database, id: string): D1PreparedStatement {
  return db.prepare('SELECT * FROM users WHERE id = ?1').bind(id);
}

export function userFromRow(row: unknown): User | null {
  return row ? fromRow(row as UserRow) : null;
}

export async function getUserByEmail(db: D1Database, email: string): Promise<User | null> {
  return userFromRow(await userByEmailStatement(db, email).first());
}

export async function getUserById(db: D1Database, id: string): Promise<User | null> {
  return userFromRow(await db.prepare('SELECT * FROM users WHERE id = ?1').bind(id).first());
}

/**
 * A new active user and its INSERT, for src/services/user-account.ts to batch with its audit row; the INSERT throws if
 * the email is taken (UNIQUE constraint).
 */
export async function newUserStatement(
  db: D1Database,
  email: string,
  password: string,
  id = randomId('usr'),
): Promise<{ user: User; statement: D1PreparedStatement }> {
  const now = nowSeconds();
  const row: UserRow = {
    id,
    email: normalizeEmail(email),
    password_hash: await hashPassword(password),
    status: 'active',
    created_at: now,
    updated_at: now,
  };
  const statement = db
    .prepare(
      'INSERT INTO users (id, email, password_hash, status, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)',
    )
    .bind(row.id, row.email, row.password_hash, row.status, row.created_at, row.updated_at);
  return { user: fromRow(row), statement };
}

/** Creates a user on its own, unaudited (tests and seeding: the admin API goes through services/user-account.ts). */
export async function createUser(db: D1Database, email: string, password: string, id = randomId('usr')): Promise<User> {
  const { user, statement } = await newUserStatement(db, email, password, id);
  await statement.run();
  return user;
}

// A password reset and a status change are operations with side effects (sessions, tokens): src/services/user-account.ts.
