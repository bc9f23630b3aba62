import { sql, type Kysely } from 'kysely';
import type { Database, GuessKindColumn } from '../schema';

/** Second-factor guess budgets (010-guess-sources.ts). The policy is lib/auth/mfa-budget.ts. */

export interface SourceRow {
  source: string;
  failures: number;
  lastFailureAt: number;
  epoch: number;
}

/**
 * The user's budget row, created when missing, written in every case: inside a transaction
 * this is the lock that serialises the user's charges (a row lock on PostgreSQL; SQLite's
 * transactions take the write lock at BEGIN IMMEDIATE). Returns the unlock epoch.
 */
export async function lockGuessAccount(trx: Kysely<Database>, userId: string): Promise<{ epoch: number; notifiedAt: number | null }> {
  const row = await trx
    .insertInto('mfa_guess_accounts')
    .values({ user_id: userId, epoch: 0, notified_at: null })
    .onConflict((oc) => oc.column('user_id').doUpdateSet({ epoch: sql`mfa_guess_accounts.epoch` }))
    .returning(['epoch', 'notified_at'])
    .executeTakeFirstOrThrow();
  return { epoch: Number(row.epoch), notifiedAt: row.notified_at === null ? null : Number(row.notified_at) };
}

export async function getGuessAccount(db: Kysely<Database>, userId: string): Promise<{ epoch: number; notifiedAt: number | null } | undefined> {
  const row = await db.selectFrom('mfa_guess_accounts').select(['epoch', 'notified_at']).where('user_id', '=', userId).executeTakeFirst();
  return row && { epoch: Number(row.epoch), notifiedAt: row.notified_at === null ? null : Number(row.notified_at) };
}

export async function getGuessSources(db: Kysely<Database>, userId: string, kind: GuessKindColumn, sources: string[]): Promise<SourceRow[]> {
  if (sources.length === 0) return [];
  const rows = await db
    .selectFrom('mfa_guess_sources')
    .select(['source', 'failures', 'last_failure_at', 'epoch'])
    .where('user_id', '=', userId)
    .where('kind', '=', kind)
    .where('source', 'in', sources)
    .execute();
  return rows.map((r) => ({ source: r.source, failures: Number(r.failures), lastFailureAt: Number(r.last_failure_at), epoch: Number(r.epoch) }));
}

/** Every source row of the user (for the admin's page). */
export async function getAllGuessSources(db: Kysely<Database>, userId: string): Promise<(SourceRow & { kind: GuessKindColumn })[]> {
  const rows = await db.selectFrom('mfa_guess_sources').selectAll().where('user_id', '=', userId).execute();
  return rows.map((r) => ({ kind: r.kind, source: r.source, failures: Number(r.failures), lastFailureAt: Number(r.last_failure_at), epoch: Number(r.epoch) }));
}

/** Writes the sources' new counts in one statement (an upsert of every row). */
export async function putGuessSources(db: Kysely<Database>, userId: string, kind: GuessKindColumn, rows: SourceRow[]): Promise<void> {
  if (rows.length === 0) return;
  await db
    .insertInto('mfa_guess_sources')
    .values(rows.map((row) => ({ user_id: userId, kind, source: row.source, failures: row.failures, last_failure_at: row.lastFailureAt, epoch: row.epoch })))
    .onConflict((oc) =>
      oc.columns(['user_id', 'kind', 'source']).doUpdateSet((eb) => ({
        failures: eb.ref('excluded.failures'),
        last_failure_at: eb.ref('excluded.last_failure_at'),
        epoch: eb.ref('excluded.epoch'),
      })),
    )
    .execute();
}

/** Takes one failure back from each source still on `epoch` (a refund, lib/auth/mfa-budget.ts refundedSource()), in one statement. */
export async function refundGuessSources(db: Kysely<Database>, userId: string, kind: GuessKindColumn, sources: string[], epoch: number): Promise<void> {
  if (sources.length === 0) return;
  await db
    .updateTable('mfa_guess_sources')
    .set({ failures: sql`case when failures > 0 then failures - 1 else 0 end` })
    .where('user_id', '=', userId)
    .where('kind', '=', kind)
    .where('source', 'in', sources)
    .where('epoch', '=', epoch)
    .execute();
}

/** Failures of `kind` (all kinds when null) since `since` under `epoch`: how many, the oldest, and how many older rows are left to prune. */
export async function countGuessFailures(
  db: Kysely<Database>,
  userId: string,
  kind: GuessKindColumn | null,
  epoch: number,
  since: number,
): Promise<{ failures: number; oldestAt: number | null; older: number }> {
  let query = db
    .selectFrom('mfa_guess_failures')
    .select([
      sql<number | string>`sum(case when at > ${since} then 1 else 0 end)`.as('n'),
      sql<number | string | null>`min(case when at > ${since} then at end)`.as('oldest'),
      sql<number | string>`sum(case when at > ${since} then 0 else 1 end)`.as('older'),
    ])
    .where('user_id', '=', userId)
    .where('epoch', '=', epoch);
  if (kind !== null) query = query.where('kind', '=', kind);
  const row = await query.executeTakeFirstOrThrow();
  return { failures: Number(row.n ?? 0), oldestAt: row.oldest === null ? null : Number(row.oldest), older: Number(row.older ?? 0) };
}

export async function insertGuessFailure(db: Kysely<Database>, row: { id: string; userId: string; kind: GuessKindColumn; at: number; epoch: number }): Promise<void> {
  await db.insertInto('mfa_guess_failures').values({ id: row.id, user_id: row.userId, kind: row.kind, at: row.at, epoch: row.epoch }).execute();
}

/** Removes one charged failure (a refund); true when it was still there. */
export async function deleteGuessFailure(db: Kysely<Database>, id: string): Promise<boolean> {
  const result = await db.deleteFrom('mfa_guess_failures').where('id', '=', id).executeTakeFirst();
  return result.numDeletedRows === 1n;
}

/** Drops the user's failure and source rows last touched at or before `before` (a day ago: they no longer count). */
export async function pruneGuessRows(db: Kysely<Database>, userId: string, before: number): Promise<void> {
  await db.deleteFrom('mfa_guess_failures').where('user_id', '=', userId).where('at', '<=', before).execute();
  await db.deleteFrom('mfa_guess_sources').where('user_id', '=', userId).where('last_failure_at', '<=', before).execute();
}

export async function markFailuresNotified(db: Kysely<Database>, userId: string, at: number): Promise<void> {
  await db.updateTable('mfa_guess_accounts').set({ notified_at: at }).where('user_id', '=', userId).execute();
}

/**
 * Admin unlock: a new epoch, so every count charged before it stops counting, including the
 * charges of requests still in flight; the old rows go. Returns the new epoch.
 */
export async function bumpGuessEpoch(db: Kysely<Database>, userId: string): Promise<number> {
  const row = await db
    .insertInto('mfa_guess_accounts')
    .values({ user_id: userId, epoch: 1, notified_at: null })
    .onConflict((oc) => oc.column('user_id').doUpdateSet({ epoch: sql`mfa_guess_accounts.epoch + 1` }))
    .returning('epoch')
    .executeTakeFirstOrThrow();
  const epoch = Number(row.epoch);
  await db.deleteFrom('mfa_guess_sources').where('user_id', '=', userId).where('epoch', '<', epoch).execute();
  await db.deleteFrom('mfa_guess_failures').where('user_id', '=', userId).where('epoch', '<', epoch).execute();
  return epoch;
}
