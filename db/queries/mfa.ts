import { sql, type Kysely, type Selectable } from 'kysely';
import { listFactors, type FactorListItem } from './factors';
import { idTable, inIdList, pairTable } from './id-list';
import type { Database, FactorsTable, StartNoticeReason } from '../schema';
import type { MfaRequirement, Method } from '../../lib/policy/types';

/** Per-user MFA requirements (R-B) and the factors that decide "enrolled". */

// NOTE: for lists built into IN (…) elsewhere; SQLite builds older than 3.32 stop at 999
// bound parameters. The bulk paths below pass the whole list as one parameter (id-list.ts).
export const idChunkSize = 900;

export function chunksOf<T>(items: readonly T[], size = idChunkSize): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** The ids in `ids` that name no user, in input order. */
export async function findUnknownUserIds(db: Kysely<Database>, ids: readonly string[]): Promise<string[]> {
  const rows = await db.selectFrom('users').select('id').where(inIdList(db, 'users.id', ids)).execute();
  const found = new Set(rows.map((row) => row.id));
  return ids.filter((id) => !found.has(id));
}

export async function getMfaRequirement(db: Kysely<Database>, userId: string): Promise<MfaRequirement | null> {
  const row = await db
    .selectFrom('mfa_requirements')
    .select(['required', 'enrollment_days', 'period_starts_at', 'period_ends_at'])
    .where('user_id', '=', userId)
    .executeTakeFirst();
  if (!row) return null;
  return {
    required: row.required === 1,
    enrollmentDays: row.enrollment_days,
    periodStartsAt: row.period_starts_at,
    periodEndsAt: row.period_ends_at,
  };
}

export interface RequirementUpsert {
  userIds: readonly string[];
  enrollmentDays: number;
  /** When the period starts for users who are not staged; staged users get no period yet (R-B4). */
  now: number;
  periodEndsAt: number;
  setBy: string | null;
  /** Why the period starts: marks the row for the "period started" message (008-start-notice.ts). */
  reason: Exclude<StartNoticeReason, 'activated'>;
}

export interface WrittenRequirement {
  userId: string;
  /** Null for a staged user: pre-enrollment, the period starts on activation (R-B4). */
  periodStartsAt: number | null;
}

/**
 * Requires MFA for every listed user that exists, with a fresh period: one
 * `insert … select … on conflict do update … returning` for the whole list, in the order
 * given (sorted ids write fastest: idTable()). Returns the rows it wrote; an id that names
 * no user is simply not among them.
 * Staged users get a null period (pre-enrollment) and no message mark; both come on activation.
 */
export async function upsertRequirements(db: Kysely<Database>, input: RequirementUpsert): Promise<WrittenRequirement[]> {
  // NOTE: PostgreSQL types a bare parameter in a select list as text; the casts make the
  // values integers (bigint for times) on both dialects.
  const notStaged = sql<boolean>`users.state <> 'staged'`;
  const rows = await db
    .insertInto('mfa_requirements')
    .columns(['user_id', 'required', 'enrollment_days', 'period_starts_at', 'period_ends_at', 'set_by', 'set_at', 'start_notice'])
    .expression((eb) =>
      eb
        .selectFrom(idTable(db, input.userIds))
        .innerJoin('users', 'users.id', 't.id')
        .select([
          'users.id',
          sql<number>`1`.as('required'),
          sql<number>`cast(${input.enrollmentDays} as integer)`.as('enrollment_days'),
          sql<number | null>`case when ${notStaged} then cast(${input.now} as bigint) else null end`.as('period_starts_at'),
          sql<number | null>`case when ${notStaged} then cast(${input.periodEndsAt} as bigint) else null end`.as(
            'period_ends_at',
          ),
          sql<string | null>`cast(${input.setBy} as text)`.as('set_by'),
          sql<number>`cast(${input.now} as bigint)`.as('set_at'),
          sql<StartNoticeReason | null>`case when ${notStaged} then cast(${input.reason} as text) else null end`.as('start_notice'),
        ])
        // SQLite needs a WHERE in `insert … select … on conflict`.
        .where(sql<boolean>`true`)
        .orderBy('t.n'),
    )
    .onConflict((oc) =>
      oc.column('user_id').doUpdateSet((eb) => ({
        required: eb.ref('excluded.required'),
        enrollment_days: eb.ref('excluded.enrollment_days'),
        period_starts_at: eb.ref('excluded.period_starts_at'),
        period_ends_at: eb.ref('excluded.period_ends_at'),
        set_by: eb.ref('excluded.set_by'),
        set_at: eb.ref('excluded.set_at'),
        start_notice: eb.ref('excluded.start_notice'),
      })),
    )
    .returning(['user_id', 'period_starts_at'])
    .execute();
  return rows.map((r) => ({ userId: r.user_id, periodStartsAt: r.period_starts_at }));
}

export interface RequirementAuditInput {
  /** The rows upsertRequirements() wrote: one entry each, no second read of the users. */
  written: readonly WrittenRequirement[];
  at: number;
  actorId: string | null;
  actorLabel: string;
  clientIp: string | null;
  action: string;
  /** Details for users whose period started now, and for staged users (pre-enrollment). */
  detailsActive: Record<string, unknown>;
  detailsStaged: Record<string, unknown>;
}

/** One audit row per written requirement, in one statement: the targets travel as one parameter (pairTable()). */
export async function insertRequirementAudit(db: Kysely<Database>, input: RequirementAuditInput): Promise<number> {
  if (input.written.length === 0) return 0;
  const active = JSON.stringify(input.detailsActive);
  const staged = JSON.stringify(input.detailsStaged);
  const targets = pairTable(db, input.written.map((w) => [w.userId, w.periodStartsAt === null] as const), 'boolean');
  const result = await sql`insert into audit_log (at, actor_id, actor_label, action, target_type, target_id, details, client_ip)
    select cast(${input.at} as bigint), cast(${input.actorId} as text), cast(${input.actorLabel} as text), cast(${input.action} as text), 'user',
      t.id, case when t.v then ${staged} else ${active} end, cast(${input.clientIp} as text)
    from ${targets} as t`.execute(db);
  return Number(result.numAffectedRows ?? 0n);
}

/** Returns whether there was a requirement to remove. */
export async function deleteRequirement(db: Kysely<Database>, userId: string): Promise<boolean> {
  const result = await db.deleteFrom('mfa_requirements').where('user_id', '=', userId).executeTakeFirst();
  return result.numDeletedRows > 0n;
}

/** Removes the requirements of the listed users in one statement; returns whose there were. */
export async function deleteRequirements(db: Kysely<Database>, userIds: readonly string[]): Promise<string[]> {
  const rows = await db.deleteFrom('mfa_requirements').where(inIdList(db, 'mfa_requirements.user_id', userIds)).returning('user_id').execute();
  return rows.map((r) => r.user_id);
}

/** One audit entry per listed user, the same action and details for each: one statement. */
export async function insertUserAudit(
  db: Kysely<Database>,
  input: { userIds: readonly string[]; at: number; actorId: string | null; actorLabel: string; clientIp: string | null; action: string; details: unknown },
): Promise<number> {
  if (input.userIds.length === 0) return 0;
  const result = await sql`insert into audit_log (at, actor_id, actor_label, action, target_type, target_id, details, client_ip)
    select cast(${input.at} as bigint), cast(${input.actorId} as text), cast(${input.actorLabel} as text), cast(${input.action} as text), 'user',
      t.id, cast(${JSON.stringify(input.details)} as text), cast(${input.clientIp} as text)
    from ${idTable(db, input.userIds)} order by t.n`.execute(db);
  return Number(result.numAffectedRows ?? 0n);
}

/** Sets the period of an existing requirement (activation of a pre-enrollment user, R-B4). */
export async function setRequirementPeriod(
  db: Kysely<Database>,
  userId: string,
  period: { startsAt: number; endsAt: number },
): Promise<void> {
  await db
    .updateTable('mfa_requirements')
    // The mark queues its "period started" message (008-start-notice.ts).
    .set({ period_starts_at: period.startsAt, period_ends_at: period.endsAt, start_notice: 'activated' })
    .where('user_id', '=', userId)
    .execute();
}

export type FactorRow = Selectable<FactorsTable>;

/** A factor as the admin sees it (R-F3): never the secret or the public key. */
export type FactorSummary = FactorListItem;

/** The user's factors without secrets; the same list the user sees (db/queries/factors.ts). */
export const listFactorsOfUser = listFactors;

/** Distinct methods with at least one stored factor, in canonical order (TOTP first). */
export async function enrolledMethodsOfUser(db: Kysely<Database>, userId: string): Promise<Method[]> {
  const rows = await db.selectFrom('factors').select('type').distinct().where('user_id', '=', userId).execute();
  const present = new Set(rows.map((r) => r.type));
  return (['totp', 'webauthn', 'duo'] as const).filter((m) => present.has(m));
}

/** Returns how many TOTP factors were removed. */
export async function deleteTotpFactorsOfUser(db: Kysely<Database>, userId: string): Promise<number> {
  const result = await db.deleteFrom('factors').where('user_id', '=', userId).where('type', '=', 'totp').executeTakeFirst();
  return Number(result.numDeletedRows);
}
