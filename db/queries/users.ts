import type { Kysely, Selectable } from 'kysely';
import type { Database, UsersTable, UserRole, UserState } from '../schema';

export type UserRow = Selectable<UsersTable>;

export async function getUserById(db: Kysely<Database>, id: string): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function getUserByUsername(db: Kysely<Database>, username: string): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('username_lower', '=', username.toLowerCase()).executeTakeFirst();
}

export interface NewUser {
  id: string;
  username: string;
  email: string | null;
  displayName: string | null;
  passwordHash: string | null;
  state: UserState;
  role: UserRole;
  createdAt: number;
}

export async function insertUser(db: Kysely<Database>, user: NewUser): Promise<void> {
  await db
    .insertInto('users')
    .values({
      id: user.id,
      username: user.username,
      username_lower: user.username.toLowerCase(),
      email: user.email,
      display_name: user.displayName,
      password_hash: user.passwordHash,
      state: user.state,
      role: user.role,
      created_at: user.createdAt,
      activated_at: user.state === 'active' ? user.createdAt : null,
    })
    .execute();
}

export async function setUserPasswordHash(db: Kysely<Database>, id: string, hash: string): Promise<void> {
  await db.updateTable('users').set({ password_hash: hash }).where('id', '=', id).execute();
}

export async function setUserState(
  db: Kysely<Database>,
  id: string,
  state: UserState,
  now: number,
): Promise<{ previous: UserState } | undefined> {
  const current = await db.selectFrom('users').select('state').where('id', '=', id).executeTakeFirst();
  if (!current) return undefined;
  await db
    .updateTable('users')
    .set(state === 'active' && current.state !== 'active' ? { state, activated_at: now } : { state })
    .where('id', '=', id)
    .execute();
  return { previous: current.state };
}

export async function setUserRole(db: Kysely<Database>, id: string, role: UserRole): Promise<boolean> {
  const result = await db.updateTable('users').set({ role }).where('id', '=', id).executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

export async function countAdmins(db: Kysely<Database>): Promise<number> {
  const row = await db
    .selectFrom('users')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('role', '=', 'admin')
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Whether the user has a password (the hash itself stays here). */
export async function userHasPassword(db: Kysely<Database>, id: string): Promise<boolean> {
  const row = await db.selectFrom('users').select('password_hash').where('id', '=', id).executeTakeFirst();
  return !!row?.password_hash;
}
