import type { Kysely, Selectable } from 'kysely';
import { sql } from 'kysely';
import type { AuthThrottleTable, Database } from '../schema';

export type ThrottleRow = Selectable<AuthThrottleTable>;

export async function getThrottle(db: Kysely<Database>, key: string): Promise<ThrottleRow | undefined> {
  return db.selectFrom('auth_throttle').selectAll().where('key', '=', key).executeTakeFirst();
}

/**
 * Counts one failure atomically (an upsert that increments), so parallel guesses on
 * several app instances are each counted. Returns the count after this failure.
 * A window older than `windowMs` restarts at 1.
 */
export async function recordThrottleFailure(
  db: Kysely<Database>,
  key: string,
  now: number,
  windowMs: number,
): Promise<ThrottleRow> {
  const windowStart = now - windowMs;
  return db
    .insertInto('auth_throttle')
    .values({ key, failures: 1, window_started_at: now, blocked_until: 0 })
    .onConflict((oc) =>
      oc.column('key').doUpdateSet({
        failures: sql`case when auth_throttle.window_started_at <= ${windowStart} then 1 else auth_throttle.failures + 1 end`,
        window_started_at: sql`case when auth_throttle.window_started_at <= ${windowStart} then ${now} else auth_throttle.window_started_at end`,
      }),
    )
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function setThrottleBlockedUntil(db: Kysely<Database>, key: string, until: number): Promise<void> {
  await db
    .updateTable('auth_throttle')
    .set({ blocked_until: sql`case when blocked_until > ${until} then blocked_until else ${until} end` })
    .where('key', '=', key)
    .execute();
}

export async function clearThrottle(db: Kysely<Database>, key: string): Promise<void> {
  await db.deleteFrom('auth_throttle').where('key', '=', key).execute();
}
