import type { Kysely } from 'kysely';
import type { Database, FactorType } from '../schema';
import { compiledPerHandle } from '../statement-cache';

/** Second factors as the user manages them (lib/factors). Secrets stay sealed here. */

export interface NewTotpFactor {
  id: string;
  userId: string;
  name: string;
  secretSealed: string;
  /** The step of the code that proved the device: it may not sign anyone in again. */
  enrolledStep: number;
  now: number;
}

export async function insertTotpFactor(db: Kysely<Database>, factor: NewTotpFactor): Promise<void> {
  await db
    .insertInto('factors')
    .values({
      id: factor.id,
      user_id: factor.userId,
      type: 'totp',
      name: factor.name,
      created_at: factor.now,
      last_used_at: null,
      secret_enc: factor.secretSealed,
      last_used_step: factor.enrolledStep,
      credential_id: null,
      public_key: null,
      sign_count: null,
      transports: null,
    })
    .execute();
}

export interface TotpFactorSecret {
  id: string;
  name: string;
  secretSealed: string;
  lastUsedStep: number | null;
}

/**
 * R-I3: claims a time step for a factor. One conditional UPDATE, so of any number of
 * requests carrying the same code (on any number of app instances) exactly one sees a row
 * change; a step at or before the last accepted one never matches.
 */
export async function claimTotpStep(db: Kysely<Database>, factorId: string, step: number, now: number): Promise<boolean> {
  const result = await db
    .updateTable('factors')
    .set({ last_used_step: step, last_used_at: now })
    .where('id', '=', factorId)
    .where('type', '=', 'totp')
    .where((eb) => eb.or([eb('last_used_step', 'is', null), eb('last_used_step', '<', step)]))
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

export interface FactorListItem {
  id: string;
  type: FactorType;
  name: string;
  createdAt: number;
  lastUsedAt: number | null;
}

export async function listFactors(db: Kysely<Database>, userId: string): Promise<FactorListItem[]> {
  const rows = await db
    .selectFrom('factors')
    .select(['id', 'type', 'name', 'created_at', 'last_used_at'])
    .where('user_id', '=', userId)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  return rows.map((r) => ({ id: r.id, type: r.type, name: r.name, createdAt: r.created_at, lastUsedAt: r.last_used_at }));
}

export async function getFactorOfUser(db: Kysely<Database>, userId: string, factorId: string): Promise<FactorListItem | undefined> {
  const row = await db
    .selectFrom('factors')
    .select(['id', 'type', 'name', 'created_at', 'last_used_at'])
    .where('id', '=', factorId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return row ? { id: row.id, type: row.type, name: row.name, createdAt: row.created_at, lastUsedAt: row.last_used_at } : undefined;
}

export async function countFactors(db: Kysely<Database>, userId: string): Promise<number> {
  const row = await db
    .selectFrom('factors')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .where('user_id', '=', userId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function renameFactorRow(db: Kysely<Database>, userId: string, factorId: string, name: string): Promise<boolean> {
  const result = await db
    .updateTable('factors')
    .set({ name })
    .where('id', '=', factorId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

/** Scoped to the user, so a forged id can never reach someone else's factor. */
export async function deleteFactorRow(db: Kysely<Database>, userId: string, factorId: string): Promise<boolean> {
  const result = await db.deleteFrom('factors').where('id', '=', factorId).where('user_id', '=', userId).executeTakeFirst();
  return result.numDeletedRows === 1n;
}

export async function factorTypesOfUser(db: Kysely<Database>, userId: string): Promise<FactorType[]> {
  const rows = await db.selectFrom('factors').select('type').where('user_id', '=', userId).execute();
  return rows.map((r) => r.type);
}

export interface TotpSignInFactors {
  factors: TotpFactorSecret[];
}

const totpSignInFactorsQuery = compiledPerHandle(1, (db: Kysely<Database>, userId: string) =>
  db
    .selectFrom('factors')
    .select(['id', 'name', 'secret_enc', 'last_used_step'])
    .where('user_id', '=', userId)
    .where('type', '=', 'totp')
    .orderBy('created_at')
    .orderBy('id'),
);

/**
 * The user's TOTP factors with their sealed secrets, oldest first. Compiled once per handle:
 * it is on the path of every TOTP sign-in. (The guess budget is db/queries/mfa-throttle.ts.)
 */
export async function getTotpSignInFactors(db: Kysely<Database>, userId: string): Promise<TotpSignInFactors> {
  const { rows } = await db.executeQuery(totpSignInFactorsQuery(db, userId));
  return {
    factors: rows
      .filter((r) => r.secret_enc !== null)
      .map((r) => ({ id: r.id, name: r.name, secretSealed: r.secret_enc!, lastUsedStep: r.last_used_step })),
  };
}
