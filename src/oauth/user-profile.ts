/**
 * A user's OpenID Connect Core §5.1 standard claims as this server keeps them (migrations/0012), and the fields of
 * a user that the claims rules read (src/oauth/oidc-claims.ts). Shapes only: src/storage/users.ts reads and writes them.
 */

/** The editable standard claims (Core §5.1); null when unknown. */
export interface UserProfile {
  name: string | null;
  given_name: string | null;
  family_name: string | null;
  picture: string | null;
  locale: string | null;
  email_verified: boolean;
}

export const PROFILE_FIELDS = ['name', 'given_name', 'family_name', 'picture', 'locale', 'email_verified'] as const;

/** What the claims rules need of a user (src/storage/users.ts `User` has it). */
export interface ClaimsUser {
  email: string;
  updatedAt: number;
  profile: UserProfile;
}
