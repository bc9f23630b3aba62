import { createDb, migrateToLatest, type Db } from '../../../db';
import { cliActor } from '../../../lib/admin/actor';
import { createUser, type NewUserInput } from '../../../lib/admin/users';
import { systemClock } from '../../../lib/clock';

/**
 * Opens the portal's own database from the test process (SQLite in WAL mode allows it),
 * runs `fn`, and closes it. Specs seed personas through the same services the app uses.
 */
export async function withDb<T>(databaseUrl: string, fn: (db: Db) => Promise<T>): Promise<T> {
  const db = createDb(databaseUrl);
  try {
    await migrateToLatest(db);
    return await fn(db);
  } finally {
    await db.close();
  }
}

export async function seedUsers(databaseUrl: string, users: NewUserInput[]): Promise<Record<string, string>> {
  return withDb(databaseUrl, async (db) => {
    const ids: Record<string, string> = {};
    for (const user of users) ids[user.username] = (await createUser(db.kysely, user, cliActor, systemClock)).id;
    return ids;
  });
}
