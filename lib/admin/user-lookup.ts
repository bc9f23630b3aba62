import type { Kysely } from 'kysely';
import type { Database } from '../../db';
import { getUserByUsername } from '../../db/queries/users';
import { NotFoundError } from './errors';

/** Longest username the lookup reads; longer input names nobody. */
const maxUsernameLength = 200;

/**
 * The id of the user with this username (any case), for tools that name people by username
 * (the CLI).
 * @throws NotFoundError('user')
 */
export async function userIdOfUsername(db: Kysely<Database>, username: unknown): Promise<string> {
  const user = typeof username === 'string' && username.length > 0 && username.length <= maxUsernameLength ? await getUserByUsername(db, username) : undefined;
  if (!user) throw new NotFoundError('user', [String(username ?? '').slice(0, maxUsernameLength)]);
  return user.id;
}
