import { sql, type Expression, type ExpressionBuilder, type Kysely, type SqlBool } from 'kysely';
import { isPostgres } from '../dialect';
import type { Database, UserRole, UserState } from '../schema';
import type { Method, MfaStatusName } from '../../lib/policy/types';
import { hasCountingFactor, type CountingFactorTypes } from './counting-factors';
import { containsPattern } from './like';
import { idTable } from './id-list';
import { pgSearchDocumentSql } from '../migrations/007-user-search';

/**
 * The admin users list (R-F1, R-F2): one keyset-paginated statement per page, its filters
 * as SQL predicates that classify users exactly like lib/policy mfaStatus() does.
 */

export type UserSort = 'username' | 'newest';

export interface UserListFilter {
  /** Matched case-insensitively against username, email and display name; already bounded. */
  q?: string;
  required?: boolean;
  status?: MfaStatusName;
  /** R-F2: MFA status active (enrolled) or inactive (not enrolled), whatever the requirement. */
  enrolled?: boolean;
  state?: UserState;
  /** Invited and not yet set a password (issue 15): the console's "invited, not set up". */
  invited?: boolean;
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
  /** The user's latest sign-in (ms), from the audit log; null: never signed in. */
  lastSignInAt: number | null;
  /** Issue 18 part 6: the running policy grace window ending first (null: none, or not read). */
  graceStartsAt: number | null;
  graceEndsAt: number | null;
}

// NOTE: one seek per user of audit_log_sign_in_idx (target_id, at), partial on this action
// (migration 015). The action is a literal, not a parameter, so both planners can match
// the index's predicate.
const lastSignIn = sql<number | string | null>`(select max(s.at) from audit_log s where s.action = 'auth.signed_in' and s.target_id = users.id)`;

// NOTE: a probe per user of account_tokens_user_idx (user_id, purpose), like the factor probe.
const invitedNotSetUp = sql<SqlBool>`(users.password_hash is null and exists (select 1 from account_tokens it where it.user_id = users.id and it.purpose = 'invitation'))`;

type Eb = ExpressionBuilder<Database & { r: Database['mfa_requirements'] }, 'users' | 'r'>;

// NOTE: "required" is a plain comparison: PostgreSQL estimates `coalesce(…) = 1` at 0.5% of
// rows and, with that guess, plans parallel scans and sorts of every requirement (50–550 ms a
// page at 1,000,000 users, bench/admin.ts); a missing row (NULL) is not required either way.
// "Not required" keeps coalesce(): its default estimate (99.5%) is near enough, while
// `r.required is null or …` is estimated from the column's null fraction (none) and is not.
const isRequired = sql<SqlBool>`r.required = 1`;
const notRequired = sql<SqlBool>`coalesce(r.required, 0) <> 1`;

/**
 * Issue 18 part 6: an active user with a running policy grace window (one seek of
 * policy_grace's primary key, which leads with the user). Such a user without a factor is
 * "in enrollment period" (lib/policy/grace.ts statusWithGrace()).
 */
// NOTE: a window of a policy switched OFF shows nothing (the policy asks nothing then); one
// PK probe of the few policies per window found.
const policyOn = sql<SqlBool>`exists (select 1 from policies gp where gp.id = g.policy_id and gp.enabled = 1)`;

function inGrace(now: number) {
  return sql<SqlBool>`(users.state = 'active' and exists (select 1 from policy_grace g where g.user_id = users.id and g.ends_at > ${now} and ${policyOn}))`;
}

/** Filters that only match users with a requirement row: "required" and the R-B statuses. */
function requirementOnly(filter: UserListFilter, grace: boolean): boolean {
  return (
    filter.required === true ||
    filter.status === 'pre_enrollment' ||
    // With grace windows running, an enrollment period may come from one instead.
    (filter.status === 'enrollment_period' && !grace) ||
    filter.status === 'expired'
  );
}

/**
 * R-F1 as a predicate. Mirrors mfaStatus(): enrolled first (R-B6); then no requirement →
 * not enrolled; staged → pre-enrollment (R-B4); a period that has not reached its end →
 * enrollment period; anything else, a missing end included, → expired.
 */
export function statusPredicate(eb: Eb, status: MfaStatusName, rule: CountingFactorTypes, now: number, grace = false): Expression<SqlBool> {
  const plain = plainStatusPredicate(eb, status, rule, now);
  if (!grace) return plain;
  // Issue 18 part 6: only read when some grace window runs at all (ListInput.grace), so the
  // list without any costs exactly what it did.
  if (status === 'enrollment_period') return eb.or([plain, eb.and([eb.not(hasCountingFactor(rule, 'users.id')), inGrace(now)])]);
  if (status === 'not_enrolled' || status === 'expired') return eb.and([plain, eb.not(inGrace(now))]);
  return plain;
}

function plainStatusPredicate(eb: Eb, status: MfaStatusName, rule: CountingFactorTypes, now: number): Expression<SqlBool> {
  const enrolled = hasCountingFactor(rule, 'users.id');
  if (status === 'enrolled') return enrolled;
  // NOTE: the statuses that need a requirement row look for factors by r.user_id (equal to
  // users.id there): a term naming r is checked after the requirement's own cheap terms, so
  // SQLite walking the username order probes factors only for the few users whose
  // requirement matches, not for every user it passes (5–9 ms → ~1 ms a page, bench/admin.ts).
  const notEnrolled = eb.not(status === 'not_enrolled' ? enrolled : hasCountingFactor(rule, 'r.user_id'));
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

/** Search terms at least this long (in characters) are looked up in the trigram index. */
export const minIndexedSearchLength = 3;

/** An FTS5 phrase of the term's trigrams; inside double quotes only `"` needs escaping. */
function ftsPhrase(q: string): string {
  return `"${q.replace(/"/g, '""')}"`;
}

/**
 * The users a search term can match, from the trigram index (migration 007): a superset of
 * the exact contains-matches, which the list re-checks row by row. Null for a term too short
 * to have a trigram: such a term is matched by LIKE alone while walking the list's order.
 */
function searchCandidates(db: Kysely<Database>, q: string) {
  if ([...q].length < minIndexedSearchLength) return null;
  if (isPostgres(db)) {
    // `offset 0` keeps PostgreSQL from folding the candidates back into a walk of the
    // username order (its estimate of a LIKE's rows is too rough to choose well).
    return sql`(select * from users where ${sql.raw(pgSearchDocumentSql)} like ${containsPattern(q)} escape '\\' offset 0)`;
  }
  const phrase = ftsPhrase(q);
  // NOTE: CROSS JOIN fixes SQLite's order: index matches first, then their keys, then users.
  return sql`(select users.* from users_search cross join user_search_keys k cross join users
    where users_search match ${phrase} and k.key = users_search.rowid and users.id = k.user_id)`;
}

/**
 * SQLite: the next `count` index candidates of `q` after `after` in username order, by the
 * keys' copy of the username (009-search-key-order.ts) without reading a user row. A
 * superset, like every candidate list: the caller re-checks them.
 */
async function rankedCandidates(db: Kysely<Database>, q: string, after: Extract<UserKeyset, { sort: 'username' }>, count: number) {
  const rows = await sql<{ id: string; username_lower: string }>`select k.user_id as id, k.username_lower
    from users_search cross join user_search_keys k
    where users_search match ${ftsPhrase(q)} and k.key = users_search.rowid
      and (k.username_lower, k.user_id) > (${after.usernameLower}, ${after.id})
    order by k.username_lower, k.user_id limit ${count}`.execute(db);
  return rows.rows;
}

/** Where the list's rows come from: all users, the search index's candidates, or a page of ids chosen already. */
type Source =
  | { kind: 'users' }
  | { kind: 'candidates'; q: string }
  | { kind: 'window'; sort: UserSort; after: UserKeyset | null; rows: number }
  | { kind: 'page'; ids: Expression<any> };

/**
 * The first `rows` users after `after` in the sort's order, whatever the filters, with the
 * columns the filters read: by username, all of them are in users_list_walk_idx, so the
 * window is read from that index alone (PostgreSQL: an index-only scan).
 */
function usersWindow(db: Kysely<Database>, source: Extract<Source, { kind: 'window' }>) {
  const { after } = source;
  if (source.sort === 'username') {
    let query = db.selectFrom('users').select(['users.id', 'users.username_lower', 'users.state', 'users.email', 'users.display_name']);
    if (after?.sort === 'username') {
      query = query.where((eb) => eb(eb.refTuple('users.username_lower', 'users.id'), '>', eb.tuple(after.usernameLower, after.id)));
    }
    return query.orderBy('users.username_lower').orderBy('users.id').limit(source.rows);
  }
  let query = db.selectFrom('users').select(['users.id', 'users.created_at', 'users.username_lower', 'users.state', 'users.email', 'users.display_name']);
  if (after?.sort === 'newest') {
    query = query.where((eb) => eb(eb.refTuple('users.created_at', 'users.id'), '<', eb.tuple(after.createdAt, after.id)));
  }
  return query.orderBy('users.created_at', 'desc').orderBy('users.id', 'desc').limit(source.rows);
}

function usersWithRequirements(db: Kysely<Database>, requirementRowOnly: boolean, source: Source = { kind: 'users' }) {
  const candidates = source.kind === 'candidates' ? searchCandidates(db, source.q) : null;
  // The candidates keep the name `users`, so every predicate below reads the same either way.
  // NOTE: a chosen page joins users by id from its ids (CROSS JOIN: SQLite keeps that order).
  const from = (): any =>
    source.kind === 'page'
      ? (db as Kysely<any>).selectFrom((source.ids as any).as('p')).crossJoin('users').whereRef('users.id', '=', 'p.id')
      : source.kind === 'window'
        ? (db as Kysely<any>).selectFrom(usersWindow(db, source).as('users'))
        : candidates
        ? (db as Kysely<any>).selectFrom(candidates.as('users'))
        : db.selectFrom('users');
  const left = db.selectFrom('users').leftJoin('mfa_requirements as r', 'r.user_id', 'users.id');
  if (!requirementRowOnly) return from().leftJoin('mfa_requirements as r', 'r.user_id', 'users.id') as typeof left;
  // NOTE: a cross join with the join condition, not an inner join: SQLite never reorders a
  // CROSS JOIN, so it keeps walking users in the list's order. Given an inner join (and no
  // ANALYZE statistics) it starts from mfa_requirements_required_idx and sorts every
  // required user instead: 0.5 ms → 2 s a page at 1,000,000 users.
  return from().crossJoin('mfa_requirements as r').whereRef('r.user_id', '=', 'users.id') as typeof left;
}

function baseQuery(db: Kysely<Database>, rule: CountingFactorTypes, requirementRowOnly = false, source?: Source, graceAt: number | null = null) {
  // Issue 18 part 6: the running window ending first, per row of the page (a PK seek each); null when no window runs anywhere.
  const graceEnd = graceAt === null ? sql<number | null>`null` : sql<number | null>`(select min(g.ends_at) from policy_grace g where g.user_id = users.id and g.ends_at > ${graceAt} and ${policyOn})`;
  const graceStart = graceAt === null ? sql<number | null>`null` : sql<number | null>`(select min(g.starts_at) from policy_grace g where g.user_id = users.id and g.ends_at > ${graceAt} and ${policyOn})`;
  return usersWithRequirements(db, requirementRowOnly, source)
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
      eb.case().when(hasCountingFactor(rule, 'users.id')).then(1).else(0).end().as('enrolled'),
      lastSignIn.as('last_sign_in_at'),
      graceStart.as('grace_starts_at'),
      graceEnd.as('grace_ends_at'),
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
    lastSignInAt: r.last_sign_in_at === null ? null : Number(r.last_sign_in_at),
    graceStartsAt: r.grace_starts_at === null ? null : Number(r.grace_starts_at),
    graceEndsAt: r.grace_ends_at === null ? null : Number(r.grace_ends_at),
  };
}

export interface ListInput {
  filter: UserListFilter;
  rule: CountingFactorTypes;
  now: number;
  sort: UserSort;
  after: UserKeyset | null;
  limit: number;
  /** Issue 18 part 6: some policy grace window runs now (anyGraceRunning()); false: the list reads none. */
  grace?: boolean;
  /** The search strategy's thresholds (tests make them small to reach every path). */
  search?: { candidateCap?: number; walkRows?: number; rankedChunk?: number };
}

/** How many index candidates a term may have for the list to start from them (and sort them). */
export const searchCandidateCap = 500;
/**
 * The same on PostgreSQL, smaller: counting pg_trgm's candidates reads the posting lists of
 * the term's trigrams and then each candidate's row (it re-checks them), so the count stops
 * early. (Skipping the count and walking first makes a rare term pay a walk of
 * searchWalkRows users with three LIKEs each: 6–9 ms at 1,000,000, bench/admin.ts.)
 */
export const pgSearchCandidateCap = 100;
/** A common term first walks this many users of the list's order before sorting candidates. */
export const searchWalkRows = 10_000;

/**
 * The filters as predicates over `users` ⟕ `r` and the keyset after `after`; ordered and
 * limited. `from`: 'walk' walks `users` in the sort's order; 'candidates' starts from the
 * search index's candidates; 'window' walks only the next searchWalkRows users.
 */
function pageQuery(
  db: Kysely<Database>,
  input: ListInput & { q: string | undefined; from: 'walk' | 'candidates' | 'window' } | ListInput & { q: string; from: 'ranked'; ids: readonly string[] },
) {
  const { filter, rule, now, sort, after, limit, q } = input;
  const source: Source | undefined =
    input.from === 'ranked'
      ? { kind: 'page', ids: db.selectFrom(idTable(db, input.ids)).select('t.id') }
      : input.from === 'candidates' && q !== undefined
        ? { kind: 'candidates', q }
        : input.from === 'window'
          ? { kind: 'window', sort, after, rows: input.search?.walkRows ?? searchWalkRows }
          : undefined;
  let query = baseQuery(db, rule, requirementOnly(filter, input.grace === true), source);
  if (filter.state !== undefined) query = query.where('users.state', '=', filter.state);
  if (filter.required !== undefined) query = query.where(filter.required ? isRequired : notRequired);
  if (filter.status !== undefined) {
    const status = filter.status;
    query = query.where((eb) => statusPredicate(eb as unknown as Eb, status, rule, now, input.grace === true));
  }
  if (filter.invited !== undefined) {
    const invited = filter.invited;
    query = query.where((eb) => (invited ? invitedNotSetUp : eb.not(invitedNotSetUp)));
  }
  if (filter.enrolled !== undefined) {
    const enrolled = filter.enrolled;
    query = query.where((eb) => {
      const has = hasCountingFactor(rule, 'users.id');
      return enrolled ? has : eb.not(has);
    });
  }
  if (q !== undefined) {
    // The exact contains-match, also on the index's candidates (see searchCandidates()).
    const pattern = containsPattern(q);
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
  return query.limit(limit);
}

/**
 * A page in two steps: the page's ids by the filters alone, then their rows with
 * requirement and enrollment for those ids only. A walk of the username order reads
 * users_list_walk_idx (username, id, state, email, display name) without touching the
 * table: the search and state predicates are checked on the index, the requirement on its
 * covering index, the factors last, and only the page's own rows are read in full.
 */
async function twoStepPage(db: Kysely<Database>, input: Parameters<typeof pageQuery>[1]): Promise<UserListRow[]> {
  const ids = pageQuery(db, input).clearSelect().select(['users.id as id']);
  let query = baseQuery(db, input.rule, false, { kind: 'page', ids }, input.grace === true ? input.now : null);
  query =
    input.sort === 'username'
      ? query.orderBy('users.username_lower').orderBy('users.id')
      : query.orderBy('users.created_at', 'desc').orderBy('users.id', 'desc');
  return (await query.execute()).map(toRow);
}

/**
 * The key of the `rows`-th user after `after` in the sort's order (any filter), or null if
 * the list ends sooner: where a bounded walk stops. An OFFSET over the sort's index, bounded
 * by `rows`; the pages themselves stay keyset-paginated.
 */
async function keyAhead(db: Kysely<Database>, sort: UserSort, after: UserKeyset | null, rows: number): Promise<UserKeyset | null> {
  if (sort === 'username') {
    let query = db.selectFrom('users').select(['username_lower', 'id']);
    if (after?.sort === 'username') query = query.where((eb) => eb(eb.refTuple('username_lower', 'id'), '>', eb.tuple(after.usernameLower, after.id)));
    const row = await query.orderBy('username_lower').orderBy('id').limit(1).offset(rows - 1).executeTakeFirst();
    return row ? { sort: 'username', usernameLower: row.username_lower, id: row.id } : null;
  }
  let query = db.selectFrom('users').select(['created_at', 'id']);
  if (after?.sort === 'newest') query = query.where((eb) => eb(eb.refTuple('created_at', 'id'), '<', eb.tuple(after.createdAt, after.id)));
  const row = await query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(1).offset(rows - 1).executeTakeFirst();
  return row ? { sort: 'newest', createdAt: Number(row.created_at), id: row.id } : null;
}

/** How many index candidates `q` has, counted up to `cap` (the index is read only that far). */
export async function countSearchCandidates(db: Kysely<Database>, q: string, cap: number): Promise<number> {
  const term = q.toLowerCase();
  const candidates = searchCandidates(db, term);
  if (!candidates) return Number.POSITIVE_INFINITY;
  // SQLite: the FTS index alone (its matches are a superset); PostgreSQL re-checks each
  // candidate row against the index expression anyway.
  const source = isPostgres(db) ? sql`${candidates}` : sql`(select rowid from users_search where users_search match ${ftsPhrase(term)})`;
  const row = await sql<{ n: number | string }>`select count(*) as n from (select 1 from ${source} as c limit ${cap}) as t`.execute(db);
  return Number(row.rows[0]?.n ?? 0);
}

/**
 * One page of users, `limit` rows after `after` in the sort's order. Never OFFSET: a deep
 * page costs what the first one does. Every value reaches SQL as a bound parameter.
 *
 * A search term of 3 or more characters uses the trigram index (migration 007): a term with
 * at most searchCandidateCap candidates (pgSearchCandidateCap on PostgreSQL) is answered
 * from them, sorted: a rare term costs a millisecond or two instead of a scan of every user
 * (2 s at 1,000,000). A common term walks the next searchWalkRows users of the list's order
 * first (by username that window is read from users_list_walk_idx alone; its page is
 * usually there), and only if they hold less than a page are the candidates beyond the
 * window sorted (a term whose matches cluster elsewhere in the order, e.g. a first name:
 * 25 ms on PostgreSQL; on SQLite, by username, they are taken in username order from the
 * index's keys a chunk at a time, rankedPage(): 17–19 ms instead of 58). Shorter terms walk
 * the order with LIKE, as before the index. Every path
 * re-checks the exact predicate, so all give the same rows
 * (test/integration/admin/user-search.test.ts).
 */
export async function listUserRows(db: Kysely<Database>, input: ListInput): Promise<UserListRow[]> {
  const q = input.filter.q !== undefined && input.filter.q !== '' ? input.filter.q.toLowerCase() : undefined;
  if (q === undefined || searchCandidates(db, q) === null) return twoStepPage(db, { ...input, q, from: 'walk' });
  const postgres = isPostgres(db);
  const cap = input.search?.candidateCap ?? (postgres ? pgSearchCandidateCap : searchCandidateCap);
  if ((await countSearchCandidates(db, q, cap + 1)) <= cap) return twoStepPage(db, { ...input, q, from: 'candidates' });
  const walked = await twoStepPage(db, { ...input, q, from: 'window' });
  if (walked.length >= input.limit) return walked;
  // Fewer than a page in the window: the rest comes from the candidates after its end.
  const upTo = await keyAhead(db, input.sort, input.after, input.search?.walkRows ?? searchWalkRows);
  if (upTo === null) return walked;
  const need = input.limit - walked.length;
  const rest =
    upTo.sort === 'username' && !postgres
      ? await rankedPage(db, { ...input, after: upTo, limit: need }, q)
      : await twoStepPage(db, { ...input, q, from: 'candidates', after: upTo, limit: need });
  return [...walked, ...rest];
}

/**
 * SQLite, by username: the page from the candidates after `input.after`, taken in username
 * order a chunk at a time (rankedCandidates()); each chunk's users are re-checked with every
 * filter, and the next chunk is read only if the page is not full yet. A first name with
 * 8,775 matches: 58 ms by sorting the candidates' rows, 17–19 ms this way (bench/admin.ts).
 */
async function rankedPage(db: Kysely<Database>, input: ListInput & { after: Extract<UserKeyset, { sort: 'username' }> }, q: string): Promise<UserListRow[]> {
  const chunk = input.search?.rankedChunk ?? Math.max(4 * input.limit, 200);
  const out: UserListRow[] = [];
  let after = input.after;
  for (;;) {
    const candidates = await rankedCandidates(db, q, after, chunk);
    if (candidates.length === 0) return out;
    const ids = candidates.map((c) => c.id);
    out.push(...(await twoStepPage(db, { ...input, q, from: 'ranked', ids, after, limit: input.limit - out.length })));
    if (out.length >= input.limit || candidates.length < chunk) return out;
    const last = candidates[candidates.length - 1]!;
    after = { sort: 'username', usernameLower: last.username_lower, id: last.id };
  }
}

export async function getUserListRow(db: Kysely<Database>, id: string, rule: CountingFactorTypes, now: number | null = null): Promise<UserListRow | undefined> {
  const row = await baseQuery(db, rule, false, undefined, now).where('users.id', '=', id).executeTakeFirst();
  return row ? toRow(row) : undefined;
}

export interface UserFacetCount {
  staged: boolean;
  /** A requirement row with required = 1. */
  required: boolean;
  /** Its period's end is after `now`. */
  periodRunning: boolean;
  /** A factor of a counting method (or Duo-only settings). */
  enrolled: boolean;
  /** Issue 18 part 6: active, with a running policy grace window (always false when `grace` was not asked). */
  inGrace: boolean;
  count: number;
}

/** Whether any policy grace window runs at `now`: one seek of policy_grace_ends_idx. */
export async function anyGraceRunning(db: Kysely<Database>, now: number): Promise<boolean> {
  const row = await db.selectFrom('policy_grace').select('user_id').where('ends_at', '>', now).limit(1).executeTakeFirst();
  return row !== undefined;
}

/**
 * Users grouped by the four facts their MFA status depends on (at most 16 groups): one pass
 * over users ⟕ requirements with ONE factor probe per user, classified by the caller with
 * mfaStatus() itself. A full scan: callers cache it (lib/admin/user-directory.ts
 * countUsersByStatus()).
 */
export async function countUserFacets(db: Kysely<Database>, rule: CountingFactorTypes, now: number, grace = false): Promise<UserFacetCount[]> {
  // NOTE: grouped by position: PostgreSQL would not see an expression with bound parameters
  // in the select list and the same expression in GROUP BY as one.
  const rows = await db
    .selectFrom('users')
    .leftJoin('mfa_requirements as r', 'r.user_id', 'users.id')
    .select((eb) => [
      sql<number>`case when users.state = 'staged' then 1 else 0 end`.as('staged'),
      sql<number>`case when r.required = 1 then 1 else 0 end`.as('required'),
      sql<number>`case when r.period_ends_at > ${now} then 1 else 0 end`.as('running'),
      eb.case().when(hasCountingFactor(rule, 'users.id')).then(1).else(0).end().as('enrolled'),
      (grace ? sql<number>`case when ${inGrace(now)} then 1 else 0 end` : sql<number>`0`).as('in_grace'),
      eb.fn.countAll<number>().as('n'),
    ])
    .groupBy(sql.raw('1, 2, 3, 4, 5') as any)
    .execute();
  return rows.map((r) => ({
    staged: Number(r.staged) === 1,
    required: Number(r.required) === 1,
    periodRunning: Number(r.running) === 1,
    enrolled: Number(r.enrolled) === 1,
    inGrace: Number(r.in_grace) === 1,
    count: Number(r.n),
  }));
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
