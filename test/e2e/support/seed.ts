import type { Kysely } from 'kysely';
import { createDb, migrateToLatest, type Database, type Db } from '../../../db';
import { insertTotpFactor } from '../../../db/queries/factors';
import { createKeyring, sealSecret } from '../../../lib/crypto/secret-box';
import { stepAt, totpSecretContext } from '../../../lib/factors/totp';
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

/**
 * An authenticator app already set up for `userId` (enrolled ten steps ago, so no code near
 * now has been used), its secret sealed as the portal seals it.
 */
export async function insertEnrolledTotp(
  db: Kysely<Database>,
  { userId, secret, portalSecret, name = 'Ada’s phone', id = 'factor-ada' }: { userId: string; secret: string; portalSecret: string; name?: string; id?: string },
): Promise<void> {
  const now = Date.now();
  await insertTotpFactor(db, {
    id,
    userId,
    name,
    secretSealed: sealSecret(secret, totpSecretContext(userId), createKeyring([portalSecret])),
    enrolledStep: stepAt(now) - 10,
    now,
  });
}
