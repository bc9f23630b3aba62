import { sql, type CompiledQuery, type Kysely } from 'kysely';
import type { Database, DialectName } from '..';
import { sessionWithUserColumns } from './sessions';
import { compiledPerHandle } from '../statement-cache';

/**
 * Everything one access decision needs about a session, in ONE round trip: the session,
 * its user, the user's MFA requirement, the factor types they have, their groups, and the
 * policy configuration version (so a changed policy set is reloaded at the next request),
 * and (issue 18 part 6) the user's grace windows as "policyId:endsAt" pairs: one seek on
 * policy_grace's primary key, which leads with the user.
 */
function accessFactsQuery(db: Kysely<Database>, dialect: DialectName, sessionId: string) {
  const aggregate = (column: string) =>
    dialect === 'postgres' ? sql.raw(`string_agg(distinct ${column}, ',')`) : sql.raw(`group_concat(distinct ${column})`);
  return db
    .selectFrom('sessions')
    .innerJoin('users', 'users.id', 'sessions.user_id')
    .leftJoin('mfa_requirements', 'mfa_requirements.user_id', 'sessions.user_id')
    .select([
      ...sessionWithUserColumns,
      'mfa_requirements.required',
      'mfa_requirements.enrollment_days',
      'mfa_requirements.period_starts_at',
      'mfa_requirements.period_ends_at',
    ])
    .select(() => [
      sql<string | null>`(select ${aggregate('factors.type')} from factors where factors.user_id = sessions.user_id)`.as('factor_types'),
      sql<string | null>`(select ${aggregate('group_members.group_id')} from group_members where group_members.user_id = sessions.user_id)`.as('group_ids'),
      sql<number>`(select version from config_version where id = 1)`.as('config_version'),
      sql<string | null>`(select ${
        dialect === 'postgres'
          ? sql.raw(`string_agg(policy_grace.policy_id || ':' || cast(policy_grace.ends_at as text), ',')`)
          : sql.raw(`group_concat(policy_grace.policy_id || ':' || policy_grace.ends_at)`)
      } from policy_grace where policy_grace.user_id = sessions.user_id)`.as('grace_windows'),
    ])
    .where('sessions.id', '=', sessionId);
}

export type AccessFactsRow = Awaited<ReturnType<ReturnType<typeof accessFactsQuery>['executeTakeFirstOrThrow']>>;

// NOTE: this runs on every request, twice (gate and page); building and compiling the
// query costs more than running it, so it is compiled once per database handle. The SQL
// differs by dialect, so each dialect has its own compiled copy.
const compiledFor: Record<DialectName, (db: Kysely<Database>, sessionId: string) => CompiledQuery<AccessFactsRow>> = {
  sqlite: compiledPerHandle(1, (db: Kysely<Database>, sessionId: string) => accessFactsQuery(db, 'sqlite', sessionId)),
  postgres: compiledPerHandle(1, (db: Kysely<Database>, sessionId: string) => accessFactsQuery(db, 'postgres', sessionId)),
};

export async function getAccessFacts(db: Kysely<Database>, dialect: DialectName, sessionId: string): Promise<AccessFactsRow | undefined> {
  const result = await db.executeQuery<AccessFactsRow>(compiledFor[dialect](db, sessionId));
  return result.rows[0];
}
