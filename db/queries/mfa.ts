import { sql, type Kysely, type Selectable } from 'kysely';
import { listFactors, type FactorListItem } from './factors';
import { inIdList } from './id-list';
import type { Database, FactorsTable } from '../schema';
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
}

/**
 * Requires MFA for every listed user that exists, with a fresh period: one
 * one `insert … select … on conflict do update` for the whole list. Returns how many rows it wrote.
 * Staged users get a null period (pre-enrollment); it starts on activation.
 */
export async function upsertRequirements(db: Kysely<Database>, input: RequirementUpsert): Promise<number> {
  // NOTE: PostgreSQL types a bare parameter in a select list as text; the casts make the
  // values integers (bigint for times) on both dialects.
  const notStaged = sql<boolean>`users.state <> 'staged'`;
  const result = await db
    .insertInto('mfa_requirements')
    .columns(['user_id', 'required', 'enrollment_days', 'period_starts_at', 'period_ends_at', 'set_by', 'set_at'])
    .expression((eb) =>
      eb
        .selectFrom('users')
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
        ])
        // SQLite needs a WHERE in `insert … select … on conflict`; this one is never empty.
        .where(inIdList(db, 'users.id', input.userIds)),
    )
    .onConflict((oc) =>
      oc.column('user_id').doUpdateSet((eb) => ({
        required: eb.ref('excluded.required'),
        enrollment_days: eb.ref('excluded.enrollment_days'),
        period_starts_at: eb.ref('excluded.period_starts_at'),
        period_ends_at: eb.ref('excluded.period_ends_at'),
        set_by: eb.ref('excluded.set_by'),
        set_at: eb.ref('excluded.set_at'),
      })),
    )
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0n);
}

export interface RequirementAuditInput {
  userIds: readonly string[];
  at: number;
  actorId: string | null;
  actorLabel: string;
  clientIp: string | null;
  action: string;
  /** Details for users whose period started now, and for staged users (pre-enrollment). */
  detailsActive: Record<string, unknown>;
  detailsStaged: Record<string, unknown>;
}

/** One audit row per listed user, written set-based alongside upsertRequirements(). */
export async function insertRequirementAudit(db: Kysely<Database>, input: RequirementAuditInput): Promise<number> {
  const active = JSON.stringify(input.detailsActive);
  const staged = JSON.stringify(input.detailsStaged);
  const result = await db
    .insertInto('audit_log')
    .columns(['at', 'actor_id', 'actor_label', 'action', 'target_type', 'target_id', 'details', 'client_ip'])
    .expression((eb) =>
      eb
        .selectFrom('users')
        .select([
          sql<number>`cast(${input.at} as bigint)`.as('at'),
          sql<string | null>`cast(${input.actorId} as text)`.as('actor_id'),
          sql<string>`cast(${input.actorLabel} as text)`.as('actor_label'),
          sql<string>`cast(${input.action} as text)`.as('action'),
          sql<string>`'user'`.as('target_type'),
          'users.id',
          sql<string>`case when users.state = 'staged' then cast(${staged} as text) else cast(${active} as text) end`.as(
            'details',
          ),
          sql<string | null>`cast(${input.clientIp} as text)`.as('client_ip'),
        ])
        .where(inIdList(db, 'users.id', input.userIds)),
    )
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0n);
}

/** Returns whether there was a requirement to remove. */
export async function deleteRequirement(db: Kysely<Database>, userId: string): Promise<boolean> {
  const result = await db.deleteFrom('mfa_requirements').where('user_id', '=', userId).executeTakeFirst();
  return result.numDeletedRows > 0n;
}

/** Sets the period of an existing requirement (activation of a pre-enrollment user, R-B4). */
export async function setRequirementPeriod(
  db: Kysely<Database>,
  userId: string,
  period: { startsAt: number; endsAt: number },
): Promise<void> {
  await db
    .updateTable('mfa_requirements')
    .set({ period_starts_at: period.startsAt, period_ends_at: period.endsAt })
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
