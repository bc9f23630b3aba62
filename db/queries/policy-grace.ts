import { sql, type Kysely, type SqlBool } from 'kysely';
import type { Database, FactorType } from '../schema';
import type { EnrollmentCandidate } from './mail';
import { hasCountingFactor, type CountingFactorTypes } from './counting-factors';
import { inIdList } from './id-list';

/**
 * Issue 18 part 6: grace windows, one per (policy, user), written when a change brings
 * people into a require-MFA policy's scope (019-policy-grace.ts, lib/admin/grace-windows.ts).
 */

/** A window (aliased `g`) of a policy that is ON: one switched OFF asks nothing, so nobody is reminded of it. */
const policyEnabled = sql<SqlBool>`exists (select 1 from policies gp where gp.id = g.policy_id and gp.enabled = 1)`;

export interface GraceWindowRow {
  userId: string;
  policyId: string;
  startsAt: number;
  endsAt: number;
}

/** Who qualifies by group membership, as lib/policy/grace.ts's EntryPredicate says. */
export interface GroupPredicate {
  anyOf: 'all' | readonly string[];
  noneOf: readonly string[];
}

function memberOfAny(db: Kysely<Database>, groupIds: readonly string[]) {
  return sql<SqlBool>`exists (select 1 from group_members gm where gm.user_id = u.id and ${inIdList(db, 'gm.group_id', groupIds)})`;
}

/**
 * Opens a window under `policyId` for each of `userIds` who is active and whose groups
 * (as they are now, in the caller's transaction) satisfy `predicate`, in ONE statement
 * however many users (bulk membership). A user who already has a window under this policy
 * keeps it: leaving and joining again does not start the grace over. Returns the user ids
 * whose window this statement opened.
 */
export async function openGraceWindows(
  db: Kysely<Database>,
  policyId: string,
  userIds: readonly string[],
  predicate: GroupPredicate,
  window: { startsAt: number; endsAt: number },
): Promise<string[]> {
  if (userIds.length === 0) return [];
  let select = db
    .selectFrom('users as u')
    .select([
      'u.id',
      // Typed casts: PostgreSQL would read a bare parameter in a select list as text.
      sql<string>`cast(${policyId} as text)`.as('policy_id'),
      sql<number>`cast(${window.startsAt} as bigint)`.as('starts_at'),
      sql<number>`cast(${window.endsAt} as bigint)`.as('ends_at'),
    ])
    .where(inIdList(db, 'u.id', userIds))
    .where('u.state', '=', 'active');
  if (predicate.noneOf.length > 0) select = select.where(sql<SqlBool>`not ${memberOfAny(db, predicate.noneOf)}`);
  if (predicate.anyOf !== 'all') {
    if (predicate.anyOf.length === 0) return [];
    select = select.where(memberOfAny(db, predicate.anyOf));
  }
  // NOTE: SQLite reads `INSERT … SELECT … ON CONFLICT` only when the SELECT has a WHERE
  // (it always does here), or the ON would parse as a join constraint.
  const rows = await db
    .insertInto('policy_grace')
    .columns(['user_id', 'policy_id', 'starts_at', 'ends_at'])
    .expression(select)
    .onConflict((oc) => oc.columns(['user_id', 'policy_id']).doNothing())
    .returning('user_id')
    .execute();
  return rows.map((r) => r.user_id);
}

/** Every window of one user (running or ended), by policy. */
export async function graceWindowsOfUser(db: Kysely<Database>, userId: string): Promise<GraceWindowRow[]> {
  const rows = await db.selectFrom('policy_grace').selectAll().where('user_id', '=', userId).orderBy('policy_id').execute();
  return rows.map((r) => ({ userId: r.user_id, policyId: r.policy_id, startsAt: Number(r.starts_at), endsAt: Number(r.ends_at) }));
}

/**
 * Whether a grace window ending at `endsAt` still stands for the user, who is active and
 * has no counting factor: the mail worker's last check before a message about it goes out
 * (the twin of enrollmentPeriodOpen() for individual requirements).
 */
export async function graceWindowOpen(db: Kysely<Database>, userId: string, endsAt: number, countingTypes: CountingFactorTypes): Promise<boolean> {
  const row = await db
    .selectFrom('policy_grace as g')
    .innerJoin('users as u', 'u.id', 'g.user_id')
    .select('u.id')
    .where('g.user_id', '=', userId)
    .where('g.ends_at', '=', endsAt)
    .where('u.state', '=', 'active')
    .where(policyEnabled)
    .where(sql<SqlBool>`not ${hasCountingFactor(countingTypes, 'u.id')}`)
    .executeTakeFirst();
  return row !== undefined;
}

/** Of `userIds`, those with a counting factor (R-B6: their "period started" message is recorded as skipped). */
export async function enrolledAmong(db: Kysely<Database>, userIds: readonly string[], countingTypes: CountingFactorTypes): Promise<Set<string>> {
  if (userIds.length === 0) return new Set();
  const rows = await db
    .selectFrom('users as u')
    .select('u.id')
    .where(inIdList(db, 'u.id', userIds))
    .where(hasCountingFactor(countingTypes, 'u.id'))
    .execute();
  return new Set(rows.map((r) => r.id));
}

export interface GraceReminderQuery {
  now: number;
  offsetMs: number;
  nextOffsetMs: number;
  countingTypes: readonly FactorType[];
  limit: number;
}

/**
 * dueReminderCandidates() for grace windows: active users without a counting factor whose
 * window ends within `offsetMs` but not within `nextOffsetMs`, whose window is longer than
 * the offset, and who have no reminder for this end and offset yet (the same key, so a
 * user whose individual period ends at the same instant gets one reminder). Seeks the
 * index on ends_at.
 */
export async function dueGraceReminderCandidates(db: Kysely<Database>, q: GraceReminderQuery): Promise<EnrollmentCandidate[]> {
  if (q.countingTypes.length === 0) return [];
  const suffix = `:${q.offsetMs}`;
  const rows = await db
    .selectFrom('policy_grace as g')
    .innerJoin('users as u', 'u.id', 'g.user_id')
    .select(['u.id', 'u.email', 'u.username', 'u.display_name', 'g.starts_at', 'g.ends_at'])
    .where('g.ends_at', '<=', q.now + q.offsetMs)
    .where('g.ends_at', '>', q.now + q.nextOffsetMs)
    .where(sql<SqlBool>`g.ends_at - g.starts_at > ${q.offsetMs}`)
    .where('u.state', '=', 'active')
    .where(policyEnabled)
    .where(sql<SqlBool>`not ${hasCountingFactor(q.countingTypes, 'u.id')}`)
    .where(sql<SqlBool>`not exists (select 1 from mail_outbox m where m.idempotency_key = 'reminder:' || u.id || ':' || cast(g.ends_at as text) || ${suffix})`)
    .orderBy('g.ends_at')
    .orderBy('u.id')
    .limit(q.limit)
    .execute();
  // Two windows of one user ending at the same instant are one reminder.
  const seen = new Set<string>();
  const out: EnrollmentCandidate[] = [];
  for (const r of rows) {
    const startsAt = Number(r.starts_at);
    const endsAt = Number(r.ends_at);
    if (seen.has(`${r.id}:${endsAt}`)) continue;
    seen.add(`${r.id}:${endsAt}`);
    out.push({ userId: r.id, email: r.email, username: r.username, displayName: r.display_name, enrollmentDays: Math.round((endsAt - startsAt) / 86_400_000), periodStartsAt: startsAt, periodEndsAt: endsAt });
  }
  return out;
}
