import { sql, type Expression, type ExpressionBuilder, type Kysely, type SqlBool } from 'kysely';
import type { Database, UserRole, UserState } from '../schema';
import type { Method } from '../../lib/policy/types';
import { containsPattern } from './like';

/**
 * The admin users list (R-F1, R-F2): one keyset-paginated statement per page, its filters
 * as SQL predicates that classify users exactly like lib/policy mfaStatus() does.
 */

export type MfaStatusName = 'enrolled' | 'not_enrolled' | 'enrollment_period' | 'expired' | 'pre_enrollment';
export const mfaStatusNames = ['enrolled', 'not_enrolled', 'enrollment_period', 'expired', 'pre_enrollment'] as const satisfies readonly MfaStatusName[];

export type UserSort = 'username' | 'newest';

/** What "enrolled" means under the current org settings (lib/policy isEnrolled()). */
export interface EnrollmentRule {
  /** Factor types whose presence makes a user enrolled. */
  countingMethods: readonly Method[];
  /** Duo-only settings: everyone counts as enrolled (R-E5). */
  everyoneEnrolled: boolean;
}

export interface UserListFilter {
  /** Matched case-insensitively against username, email and display name; already bounded. */
  q?: string;
  required?: boolean;
  status?: MfaStatusName;
  /** R-F2: MFA status active (enrolled) or inactive (not enrolled), whatever the requirement. */
  enrolled?: boolean;
  state?: UserState;
}

/** Where the previous page ended, in the sort's own key. */
export type UserKeyset =
  | { sort: 'username'; usernameLower: string; id: string }
  | { sort: 'newest'; createdAt: number; id: string };

export interface UserListRow {
  id: string;
  username: string;
  usernameLower: string;
  email: string | null;
  displayName: string | null;
  state: UserState;
  role: UserRole;
  createdAt: number;
  required: boolean;
  enrollmentDays: number | null;
  periodStartsAt: number | null;
  periodEndsAt: number | null;
  /** A factor of a counting method (or Duo-only settings). */
  enrolled: boolean;
}

type Eb = ExpressionBuilder<Database & { r: Database['mfa_requirements'] }, 'users' | 'r'>;

function hasCountingFactor(eb: Eb, rule: EnrollmentRule): Expression<SqlBool> {
  if (rule.everyoneEnrolled) return sql<SqlBool>`1 = 1`;
  if (rule.countingMethods.length === 0) return sql<SqlBool>`1 = 0`;
  return eb.exists(
    eb
      .selectFrom('factors')
      .select(sql<number>`1`.as('one'))
      .whereRef('factors.user_id', '=', 'users.id')
      .where('factors.type', 'in', [...rule.countingMethods]),
  );
}

// NOTE: "required" is a plain comparison: PostgreSQL estimates `coalesce(…) = 1` at 0.5% of
// rows and, with that guess, plans parallel scans and sorts of every requirement (50–550 ms a
// page at 1,000,000 users, bench/admin.ts); a missing row (NULL) is not required either way.
// "Not required" keeps coalesce(): its default estimate (99.5%) is near enough, while
// `r.required is null or …` is estimated from the column's null fraction (none) and is not.
const isRequired = sql<SqlBool>`r.required = 1`;
const notRequired = sql<SqlBool>`coalesce(r.required, 0) <> 1`;

/** Filters that only match users with a requirement row: "required" and the R-B statuses. */
function requirementOnly(filter: UserListFilter): boolean {
  return (
    filter.required === true ||
    filter.status === 'pre_enrollment' ||
    filter.status === 'enrollment_period' ||
    filter.status === 'expired'
  );
}

/**
 * R-F1 as a predicate. Mirrors mfaStatus(): enrolled first (R-B6); then no requirement →
 * not enrolled; staged → pre-enrollment (R-B4); a period that has not reached its end →
 * enrollment period; anything else, a missing end included, → expired.
 */
export function statusPredicate(eb: Eb, status: MfaStatusName, rule: EnrollmentRule, now: number): Expression<SqlBool> {
  const enrolled = hasCountingFactor(eb, rule);
  if (status === 'enrolled') return enrolled;
  const notEnrolled = eb.not(enrolled);
  switch (status) {
    case 'not_enrolled':
      return eb.and([notEnrolled, notRequired]);
    case 'pre_enrollment':
      return eb.and([notEnrolled, isRequired, eb('users.state', '=', 'staged')]);
    case 'enrollment_period':
      return eb.and([notEnrolled, isRequired, eb('users.state', '<>', 'staged'), eb('r.period_ends_at', '>', now)]);
    case 'expired':
      return eb.and([
        notEnrolled,
        isRequired,
        eb('users.state', '<>', 'staged'),
        eb.or([eb('r.period_ends_at', 'is', null), eb('r.period_ends_at', '<=', now)]),
      ]);
  }
}

function usersWithRequirements(db: Kysely<Database>, requirementRowOnly: boolean) {
  const left = db.selectFrom('users').leftJoin('mfa_requirements as r', 'r.user_id', 'users.id');
  if (!requirementRowOnly) return left;
  // NOTE: a cross join with the join condition, not an inner join: SQLite never reorders a
  // CROSS JOIN, so it keeps walking users in the list's order. Given an inner join (and no
  // ANALYZE statistics) it starts from mfa_requirements_required_idx and sorts every
  // required user instead: 0.5 ms → 2 s a page at 1,000,000 users.
  return db
    .selectFrom('users')
    .crossJoin('mfa_requirements as r')
    .whereRef('r.user_id', '=', 'users.id') as unknown as typeof left;
}

function baseQuery(db: Kysely<Database>, rule: EnrollmentRule, requirementRowOnly = false) {
  return usersWithRequirements(db, requirementRowOnly)
    .select((eb) => [
      'users.id',
      'users.username',
      'users.username_lower',
      'users.email',
      'users.display_name',
      'users.state',
      'users.role',
      'users.created_at',
      'r.required',
      'r.enrollment_days',
      'r.period_starts_at',
      'r.period_ends_at',
      eb.case().when(hasCountingFactor(eb as unknown as Eb, rule)).then(1).else(0).end().as('enrolled'),
    ]);
}

type BaseRow = Awaited<ReturnType<ReturnType<typeof baseQuery>['execute']>>[number];

function toRow(r: BaseRow): UserListRow {
  return {
    id: r.id,
    username: r.username,
    usernameLower: r.username_lower,
    email: r.email,
    displayName: r.display_name,
    state: r.state,
    role: r.role,
    createdAt: Number(r.created_at),
    required: r.required === 1,
    enrollmentDays: r.enrollment_days,
    periodStartsAt: r.period_starts_at === null ? null : Number(r.period_starts_at),
    periodEndsAt: r.period_ends_at === null ? null : Number(r.period_ends_at),
    enrolled: Number(r.enrolled) === 1,
  };
}

/**
 * One page of users, `limit` rows after `after` in the sort's order. Never OFFSET: a deep
 * page costs what the first one does. Every value reaches SQL as a bound parameter.
 */
export async function listUserRows(
  db: Kysely<Database>,
  input: { filter: UserListFilter; rule: EnrollmentRule; now: number; sort: UserSort; after: UserKeyset | null; limit: number },
): Promise<UserListRow[]> {
  const { filter, rule, now, sort, after, limit } = input;
  let query = baseQuery(db, rule, requirementOnly(filter));
  if (filter.state !== undefined) query = query.where('users.state', '=', filter.state);
  if (filter.required !== undefined) query = query.where(filter.required ? isRequired : notRequired);
  if (filter.status !== undefined) {
    const status = filter.status;
    query = query.where((eb) => statusPredicate(eb as unknown as Eb, status, rule, now));
  }
  if (filter.enrolled !== undefined) {
    const enrolled = filter.enrolled;
    query = query.where((eb) => {
      const has = hasCountingFactor(eb as unknown as Eb, rule);
      return enrolled ? has : eb.not(has);
    });
  }
  if (filter.q !== undefined && filter.q !== '') {
    const pattern = containsPattern(filter.q.toLowerCase());
    query = query.where((eb) =>
      eb.or([
        sql<SqlBool>`${eb.ref('users.username_lower')} like ${pattern} escape '\\'`,
        sql<SqlBool>`lower(${eb.ref('users.email')}) like ${pattern} escape '\\'`,
        sql<SqlBool>`lower(${eb.ref('users.display_name')}) like ${pattern} escape '\\'`,
      ]),
    );
  }
  if (sort === 'username') {
    if (after?.sort === 'username') {
      query = query.where((eb) => eb(eb.refTuple('users.username_lower', 'users.id'), '>', eb.tuple(after.usernameLower, after.id)));
    }
    query = query.orderBy('users.username_lower').orderBy('users.id');
  } else {
    if (after?.sort === 'newest') {
      query = query.where((eb) => eb(eb.refTuple('users.created_at', 'users.id'), '<', eb.tuple(after.createdAt, after.id)));
    }
    query = query.orderBy('users.created_at', 'desc').orderBy('users.id', 'desc');
  }
  const rows = await query.limit(limit).execute();
  return rows.map(toRow);
}

export async function getUserListRow(db: Kysely<Database>, id: string, rule: EnrollmentRule): Promise<UserListRow | undefined> {
  const row = await baseQuery(db, rule).where('users.id', '=', id).executeTakeFirst();
  return row ? toRow(row) : undefined;
}

export interface StatusCountRow {
  status: MfaStatusName;
  required: boolean;
  count: number;
}

/**
 * Users per (status, required), classified by the same predicates as the filters. A full
 * scan: callers cache it (lib/admin/user-directory.ts countUsersByStatus()).
 */
export async function countUsersByStatusRows(db: Kysely<Database>, rule: EnrollmentRule, now: number): Promise<StatusCountRow[]> {
  // NOTE: grouped in an outer query: PostgreSQL would not see a CASE with bound parameters
  // in the select list and the same CASE in GROUP BY as one expression.
  const classified = db
    .selectFrom('users')
    .leftJoin('mfa_requirements as r', 'r.user_id', 'users.id')
    .select((eb) => {
      const e = eb as unknown as Eb;
      let status = eb.case().when(statusPredicate(e, 'enrolled', rule, now)).then('enrolled');
      for (const name of ['not_enrolled', 'pre_enrollment', 'enrollment_period'] as const) {
        status = status.when(statusPredicate(e, name, rule, now)).then(name);
      }
      return [
        status.else('expired').end().as('status'),
        eb.case().when(isRequired).then(1).else(0).end().as('required'),
      ];
    })
    .as('c');
  const rows = await db
    .selectFrom(classified)
    .select((eb) => ['c.status', 'c.required', eb.fn.countAll<number>().as('n')])
    .groupBy(['c.status', 'c.required'])
    .execute();
  return rows.map((r) => ({ status: r.status as MfaStatusName, required: Number(r.required) === 1, count: Number(r.n) }));
}

/** The groups a user belongs to, by name. */
export async function listGroupsOfUser(db: Kysely<Database>, userId: string): Promise<{ id: string; name: string }[]> {
  return db
    .selectFrom('group_members')
    .innerJoin('groups', 'groups.id', 'group_members.group_id')
    .select(['groups.id', 'groups.name'])
    .where('group_members.user_id', '=', userId)
    .orderBy('groups.name_lower')
    .execute();
}

/** Sets the given profile fields; returns the previous values, or undefined for an unknown user. */
export async function updateUserProfileRow(
  db: Kysely<Database>,
  id: string,
  patch: { email?: string | null; displayName?: string | null },
): Promise<{ email: string | null; displayName: string | null } | undefined> {
  const current = await db.selectFrom('users').select(['email', 'display_name']).where('id', '=', id).executeTakeFirst();
  if (!current) return undefined;
  const set: { email?: string | null; display_name?: string | null } = {};
  if (patch.email !== undefined) set.email = patch.email;
  if (patch.displayName !== undefined) set.display_name = patch.displayName;
  if (Object.keys(set).length > 0) await db.updateTable('users').set(set).where('id', '=', id).execute();
  return { email: current.email, displayName: current.display_name };
}
