import { sql, type Kysely, type RawBuilder, type SqlBool } from 'kysely';
import type { Database, FactorType } from '../schema';

/**
 * Set-based counts and samples for the policy impact preview (lib/admin/policy-impact.ts):
 * active users in a policy's scope, split by the factors they have. A handful of aggregate
 * statements whatever the number of users; never a query per user.
 */

/** Who a policy covers (R-C2): All Users, or anyone in an included group; minus the excluded groups. */
export interface ImpactScope {
  allUsers: boolean;
  includeGroupIds: readonly string[];
  excludeGroupIds: readonly string[];
}

/**
 * Which users of the scope: everyone; those with a factor of `methods`; those with a factor
 * but none of `methods`; those without any factor.
 */
export type ImpactSlice =
  | { kind: 'all' }
  | { kind: 'satisfied'; methods: readonly FactorType[] }
  | { kind: 'unsatisfied_holder'; methods: readonly FactorType[] }
  | { kind: 'no_factor' };

/** Active and in scope, on the users row aliased `u`. Group ids are bound parameters (at most 1,000 each, R-C5's limit). */
function inScope(scope: ImpactScope): RawBuilder<SqlBool> {
  const parts: RawBuilder<unknown>[] = [sql`u.state = 'active'`];
  if (!scope.allUsers) {
    // An empty include list matches no one (the service refuses such a policy anyway).
    parts.push(
      scope.includeGroupIds.length === 0
        ? sql`1 = 0`
        : sql`u.id in (select gi.user_id from group_members gi where gi.group_id in (${sql.join([...scope.includeGroupIds])}))`,
    );
  }
  if (scope.excludeGroupIds.length > 0) {
    parts.push(sql`u.id not in (select gx.user_id from group_members gx where gx.group_id in (${sql.join([...scope.excludeGroupIds])}))`);
  }
  return sql<SqlBool>`${sql.join(parts, sql` and `)}`;
}

function hasFactorOf(methods: readonly FactorType[]): RawBuilder<SqlBool> {
  if (methods.length === 0) return sql<SqlBool>`1 = 0`;
  return sql<SqlBool>`exists (select 1 from factors f where f.user_id = u.id and f.type in (${sql.join([...methods])}))`;
}

const hasAnyFactor = sql<SqlBool>`exists (select 1 from factors f where f.user_id = u.id)`;

function sliceFilter(slice: ImpactSlice): RawBuilder<SqlBool> {
  switch (slice.kind) {
    case 'all':
      return sql<SqlBool>`1 = 1`;
    case 'satisfied':
      return hasFactorOf(slice.methods);
    case 'unsatisfied_holder':
      return sql<SqlBool>`${hasAnyFactor} and not ${hasFactorOf(slice.methods)}`;
    case 'no_factor':
      return sql<SqlBool>`not ${hasAnyFactor}`;
  }
}

/** Active users in scope: one count (for All Users, over the state index alone). */
export async function countInScope(db: Kysely<Database>, scope: ImpactScope): Promise<number> {
  const { rows } = await sql<{ n: number | string }>`select count(*) as n from users u where ${inScope(scope)}`.execute(db);
  return Number(rows[0]?.n ?? 0);
}

/**
 * Of the active users in scope: how many have any factor (`holders`) and how many have one of
 * `methods` (`satisfied`). Driven from the factors table alone (one pass over its (user_id,
 * type) index, grouped per user); the scope is then tested per factor holder against small
 * sets (the users who are not active, the members of the named groups). Its cost follows the
 * number of factors, not of users.
 *
 * NOTE: the first form, a join from the holders to `users` filtered on state, let SQLite walk
 * all active users and probe an automatic index of the holders: 7.3 s at 1,000,000 users
 * (bench/admin.ts). Here no statement visits every user. Every factor has its user (a foreign
 * key, on delete cascade), so no orphan can be counted.
 */
export async function countFactorHolders(
  db: Kysely<Database>,
  scope: ImpactScope,
  methods: readonly FactorType[],
): Promise<{ holders: number; satisfied: number }> {
  const sat = methods.length === 0 ? sql`0` : sql`max(case when f.type in (${sql.join([...methods])}) then 1 else 0 end)`;
  // Not active: the two other states by name (001's check allows exactly three), so both
  // dialects read them from the state index alone; `<>` would scan it all, and an OR of two
  // ranges made PostgreSQL fetch the rows (a bitmap heap scan: 0.4–0.8 s at 1,000,000 users).
  const parts: RawBuilder<unknown>[] = [sql`h.user_id not in (select ux.id from users ux where ux.state in ('staged', 'suspended'))`];
  if (!scope.allUsers) {
    parts.push(
      scope.includeGroupIds.length === 0
        ? sql`1 = 0`
        : sql`h.user_id in (select gi.user_id from group_members gi where gi.group_id in (${sql.join([...scope.includeGroupIds])}))`,
    );
  }
  if (scope.excludeGroupIds.length > 0) {
    parts.push(sql`h.user_id not in (select gx.user_id from group_members gx where gx.group_id in (${sql.join([...scope.excludeGroupIds])}))`);
  }
  const { rows } = await sql<{ holders: number | string; satisfied: number | string | null }>`
    select count(*) as holders, sum(h.sat) as satisfied
    from (select f.user_id, ${sat} as sat from factors f group by f.user_id) h
    where ${sql.join(parts, sql` and `)}`.execute(db);
  return { holders: Number(rows[0]?.holders ?? 0), satisfied: Number(rows[0]?.satisfied ?? 0) };
}

export interface SampledUser {
  id: string;
  username: string;
}

/**
 * The first `limit` users of a slice by username. `walk`:
 * - 'username': walks users in username order and tests each until `limit` are found; cheap
 *   when the slice is a good share of the scope (about limit ÷ share rows are read);
 * - 'factors': starts from the factor rows of `methods` (a 'satisfied' or 'unsatisfied_holder'
 *   slice), then sorts what is left; cheap when few users hold such a factor. The sort key is an
 *   expression on purpose, so SQLite does not walk the username index instead.
 */
export async function sampleSlice(
  db: Kysely<Database>,
  scope: ImpactScope,
  slice: ImpactSlice,
  limit: number,
  walk: 'username' | 'factors',
): Promise<SampledUser[]> {
  if (slice.kind === 'satisfied' && slice.methods.length === 0) return [];
  if (walk === 'factors' && (slice.kind === 'satisfied' || slice.kind === 'unsatisfied_holder')) {
    const driver =
      slice.kind === 'satisfied'
        ? sql`u.id in (select fs.user_id from factors fs where fs.type in (${sql.join([...slice.methods])}))`
        : sql`u.id in (select fh.user_id from factors fh)`;
    const { rows } = await sql<SampledUser>`
      select u.id, u.username from users u
      where ${driver} and ${inScope(scope)} and ${sliceFilter(slice)}
      order by u.username_lower || '', u.id
      limit ${limit}`.execute(db);
    return rows.map((r) => ({ id: r.id, username: r.username }));
  }
  const { rows } = await sql<SampledUser>`
    select u.id, u.username from users u
    where ${inScope(scope)} and ${sliceFilter(slice)}
    order by u.username_lower, u.id
    limit ${limit}`.execute(db);
  return rows.map((r) => ({ id: r.id, username: r.username }));
}
