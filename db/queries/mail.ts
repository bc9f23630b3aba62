import { sql, type Insertable, type Kysely, type Selectable } from 'kysely';
import { isPostgres } from '../dialect';
import type { Database, MailOutboxTable, MailStatus, FactorType, StartNoticeReason, UserState } from '../schema';
import type { DialectName } from '../url';
import { inIdList, pairTable } from './id-list';
import { hasCountingFactor, type CountingFactorTypes } from './counting-factors';

/** The mail queue (lib/mail). */

export type OutboxRow = Selectable<MailOutboxTable>;
export type NewOutboxRow = Insertable<MailOutboxTable>;

export interface Recipient {
  id: string;
  email: string | null;
  username: string;
  displayName: string | null;
  state: UserState;
}

/** Address, name and state of each listed user that exists. */
export async function recipientsOf(db: Kysely<Database>, userIds: readonly string[]): Promise<Map<string, Recipient>> {
  const out = new Map<string, Recipient>();
  const rows = await db
    .selectFrom('users')
    .select(['id', 'email', 'username', 'display_name', 'state'])
    .where(inIdList(db, 'users.id', userIds))
    .execute();
  for (const r of rows) out.set(r.id, { id: r.id, email: r.email, username: r.username, displayName: r.display_name, state: r.state });
  return out;
}

/** 1 when the user (aliased `u`) counts as enrolled, else 0. */
function enrolledColumn(types: CountingFactorTypes) {
  return sql<number>`case when ${hasCountingFactor(types, 'u.id')} then 1 else 0 end`;
}

/** A requirement whose period began and whose "period started" message is not queued yet (008-start-notice.ts). */
export interface StartNotice extends Recipient {
  reason: StartNoticeReason;
  enrollmentDays: number;
  periodStartsAt: number;
  periodEndsAt: number;
  /** Has a factor of a counting type under the settings passed in. */
  enrolled: boolean;
}

/**
 * Up to `limit` marked requirements with what their message needs, oldest period first:
 * one seek of the partial index when none is marked.
 *
 * @param types the factor types that count as enrolled; null = everyone counts (Duo only).
 */
export async function markedStartNotices(db: Kysely<Database>, types: CountingFactorTypes, limit: number): Promise<StartNotice[]> {
  const rows = await db
    .selectFrom('mfa_requirements as r')
    .innerJoin('users as u', 'u.id', 'r.user_id')
    .select([
      'u.id',
      'u.email',
      'u.username',
      'u.display_name',
      'u.state',
      'r.start_notice',
      'r.enrollment_days',
      'r.period_starts_at',
      'r.period_ends_at',
      enrolledColumn(types).as('enrolled'),
    ])
    .where('r.start_notice', 'is not', null)
    .where('r.period_starts_at', 'is not', null)
    .where('r.period_ends_at', 'is not', null)
    // The partial index's order (008-start-notice.ts): oldest periods first.
    .orderBy('r.period_starts_at')
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    id: r.id,
    email: r.email,
    username: r.username,
    displayName: r.display_name,
    state: r.state,
    reason: r.start_notice!,
    enrollmentDays: r.enrollment_days,
    periodStartsAt: r.period_starts_at!,
    periodEndsAt: r.period_ends_at!,
    enrolled: Number(r.enrolled) === 1,
  }));
}

/**
 * Clears the marks of these periods. A mark whose period was restarted since it was read
 * (another start time) stays, so the new period still gets its message.
 */
export async function clearStartNotices(db: Kysely<Database>, notices: readonly Pick<StartNotice, 'id' | 'periodStartsAt'>[]): Promise<number> {
  if (notices.length === 0) return 0;
  const periods = pairTable(db, notices.map((n) => [n.id, n.periodStartsAt] as const), 'bigint');
  const result = await sql`update mfa_requirements set start_notice = null
    where start_notice is not null and (user_id, period_starts_at) in (select id, v from ${periods} as t)`.execute(db);
  return Number(result.numAffectedRows ?? 0n);
}

const outboxColumns = [
  'id',
  'user_id',
  'kind',
  'idempotency_key',
  'to_address',
  'params',
  'subject',
  'text_body',
  'html_body',
  'message_id',
  'status',
  'attempts',
  'next_attempt_at',
  'locked_by',
  'locked_until',
  'last_error',
  'delivered_via',
  'created_at',
  'updated_at',
  'sent_at',
] as const satisfies readonly (keyof MailOutboxTable)[];

/**
 * Queues messages; a row whose idempotency key exists already is left alone (the message
 * was queued before). Returns how many rows were new.
 *
 * One statement whatever the number of rows: they travel as ONE JSON parameter, read by
 * json_each() on SQLite and json_populate_recordset() on PostgreSQL. (Multi-row VALUES
 * lists took 25 statements of 8,000 parameters for 10,000 messages: 100–330 ms of the bulk
 * Require MFA, bench/admin.ts.)
 */
export async function insertOutboxRows(db: Kysely<Database>, rows: readonly NewOutboxRow[]): Promise<number> {
  if (rows.length === 0) return 0;
  const columns = sql.raw(outboxColumns.join(', '));
  let result;
  if (isPostgres(db)) {
    const json = JSON.stringify(rows.map((row) => Object.fromEntries(outboxColumns.map((c) => [c, row[c] ?? null]))));
    result = await sql`insert into mail_outbox (${columns})
      select ${columns} from json_populate_recordset(null::mail_outbox, cast(${json} as json))
      on conflict (idempotency_key) do nothing`.execute(db);
  } else {
    // Each row is a JSON array in column order; SQLite parses it once for all its `->>`.
    const json = JSON.stringify(rows.map((row) => outboxColumns.map((c) => row[c] ?? null)));
    const values = sql.join(outboxColumns.map((_, k) => sql.raw(`value ->> ${k}`)));
    // `where true`: SQLite needs a WHERE in `insert … select … on conflict`.
    result = await sql`insert into mail_outbox (${columns}) select ${values} from json_each(${json}) where true
      on conflict (idempotency_key) do nothing`.execute(db);
  }
  return Number(result.numAffectedRows ?? 0n);
}

export interface EnrollmentCandidate {
  userId: string;
  email: string | null;
  username: string;
  displayName: string | null;
  enrollmentDays: number;
  periodStartsAt: number;
  periodEndsAt: number;
}

function enrolledFilter(types: readonly FactorType[]) {
  return sql<boolean>`not ${hasCountingFactor(types, 'u.id')}`;
}

export interface ReminderQuery {
  now: number;
  /** This reminder goes out `offsetMs` before the period ends… */
  offsetMs: number;
  /** …unless the next, closer reminder (`nextOffsetMs` before the end; 0 = none) is due already. */
  nextOffsetMs: number;
  /** Factor types that count as enrolled: users with one get no reminder. */
  countingTypes: readonly FactorType[];
  limit: number;
}

/**
 * Active, required, not enrolled users whose period ends within `offsetMs` but not within
 * `nextOffsetMs`, whose period is longer than the offset (no "3 days left" on a 2-day
 * period), and who have no reminder for this period and offset yet.
 */
export async function dueReminderCandidates(db: Kysely<Database>, q: ReminderQuery): Promise<EnrollmentCandidate[]> {
  if (q.countingTypes.length === 0) return [];
  const suffix = `:${q.offsetMs}`;
  const rows = await db
    .selectFrom('mfa_requirements as r')
    .innerJoin('users as u', 'u.id', 'r.user_id')
    .select(['u.id', 'u.email', 'u.username', 'u.display_name', 'r.enrollment_days', 'r.period_starts_at', 'r.period_ends_at'])
    .where('r.required', '=', 1)
    .where('r.period_ends_at', '<=', q.now + q.offsetMs)
    .where('r.period_ends_at', '>', q.now + q.nextOffsetMs)
    .where('r.period_starts_at', 'is not', null)
    .where(sql<boolean>`r.period_ends_at - r.period_starts_at > ${q.offsetMs}`)
    .where('u.state', '=', 'active')
    .where(enrolledFilter(q.countingTypes))
    .where(
      sql<boolean>`not exists (select 1 from mail_outbox m where m.idempotency_key = 'reminder:' || u.id || ':' || cast(r.period_ends_at as text) || ${suffix})`,
    )
    .orderBy('r.period_ends_at')
    .orderBy('u.id')
    .limit(q.limit)
    .execute();
  return rows.map(toCandidate);
}

export interface ExpiredQuery {
  now: number;
  /** Periods that ended longer ago than this get no notice (a mail set-up on an old install). */
  lookbackMs: number;
  countingTypes: readonly FactorType[];
  limit: number;
}

/** Active, required, not enrolled users whose period has ended (within the lookback) and who have no notice of it yet. */
export async function dueExpiredCandidates(db: Kysely<Database>, q: ExpiredQuery): Promise<EnrollmentCandidate[]> {
  if (q.countingTypes.length === 0) return [];
  const rows = await db
    .selectFrom('mfa_requirements as r')
    .innerJoin('users as u', 'u.id', 'r.user_id')
    .select(['u.id', 'u.email', 'u.username', 'u.display_name', 'r.enrollment_days', 'r.period_starts_at', 'r.period_ends_at'])
    .where('r.required', '=', 1)
    .where('r.period_ends_at', '<=', q.now)
    .where('r.period_ends_at', '>', q.now - q.lookbackMs)
    .where('r.period_starts_at', 'is not', null)
    .where('u.state', '=', 'active')
    .where(enrolledFilter(q.countingTypes))
    .where(
      sql<boolean>`not exists (select 1 from mail_outbox m where m.idempotency_key = 'enrollment_expired:' || u.id || ':' || cast(r.period_ends_at as text))`,
    )
    .orderBy('r.period_ends_at')
    .orderBy('u.id')
    .limit(q.limit)
    .execute();
  return rows.map(toCandidate);
}

function toCandidate(r: {
  id: string;
  email: string | null;
  username: string;
  display_name: string | null;
  enrollment_days: number;
  period_starts_at: number | null;
  period_ends_at: number | null;
}): EnrollmentCandidate {
  return {
    userId: r.id,
    email: r.email,
    username: r.username,
    displayName: r.display_name,
    enrollmentDays: r.enrollment_days,
    periodStartsAt: r.period_starts_at!,
    periodEndsAt: r.period_ends_at!,
  };
}

/**
 * Whether the enrollment period ending at `periodEndsAt` still stands for the user, who is
 * active and not enrolled: a reminder or expiry notice queued for it is still true.
 */
export async function enrollmentPeriodOpen(
  db: Kysely<Database>,
  userId: string,
  periodEndsAt: number,
  countingTypes: readonly FactorType[],
): Promise<boolean> {
  let query = db
    .selectFrom('mfa_requirements as r')
    .innerJoin('users as u', 'u.id', 'r.user_id')
    .select('u.id')
    .where('r.user_id', '=', userId)
    .where('r.required', '=', 1)
    .where('r.period_ends_at', '=', periodEndsAt)
    .where('u.state', '=', 'active');
  if (countingTypes.length > 0) query = query.where(enrolledFilter(countingTypes));
  else return false;
  return (await query.executeTakeFirst()) !== undefined;
}

/** Cheap check before claiming: is anything due (pending and due, or a lapsed lease)? */
export async function anyMessageDue(db: Kysely<Database>, now: number): Promise<boolean> {
  const row = await db
    .selectFrom('mail_outbox')
    .select('id')
    .where('status', 'in', ['pending', 'sending'])
    .where('next_attempt_at', '<=', now)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

export interface Claim {
  workerId: string;
  now: number;
  /** The lease: until then no other worker takes the message. */
  leaseUntil: number;
}

/**
 * Takes the oldest due message for `workerId`: one conditional UPDATE, so two workers
 * never hold the same message. Due means pending with next_attempt_at <= now, or sending
 * with a lapsed lease (its worker died; next_attempt_at holds the lease end).
 *
 * SQLite runs one writer at a time, so the sub-select and the update see the same row.
 * PostgreSQL (read committed) re-checks the outer WHERE on the row it locks, so a row
 * claimed meanwhile by another worker drops out; `for update skip locked` in the
 * sub-select makes concurrent workers pick different rows instead of queueing on one.
 * Attempts are counted at the claim, so a worker that dies mid-send still used one.
 */
export async function claimNextMessage(db: Kysely<Database>, dialect: DialectName, claim: Claim): Promise<OutboxRow | undefined> {
  let due = db
    .selectFrom('mail_outbox')
    .select('id')
    .where('status', 'in', ['pending', 'sending'])
    .where('next_attempt_at', '<=', claim.now)
    .orderBy('next_attempt_at')
    .orderBy('id')
    .limit(1);
  if (dialect === 'postgres') due = due.forUpdate().skipLocked();
  return db
    .updateTable('mail_outbox')
    .set((eb) => ({
      status: 'sending',
      locked_by: claim.workerId,
      locked_until: claim.leaseUntil,
      next_attempt_at: claim.leaseUntil,
      attempts: eb('attempts', '+', 1),
      updated_at: claim.now,
    }))
    .where('id', '=', due)
    .where('status', 'in', ['pending', 'sending'])
    .where('next_attempt_at', '<=', claim.now)
    .returningAll()
    .executeTakeFirst();
}

export interface Rendered {
  text: string;
  html: string;
  messageId: string;
}

/** After the server accepted it. Only the worker holding the lease may; false when it lost it. */
export async function markMessageSent(
  db: Kysely<Database>,
  input: { id: string; workerId: string; now: number; via: 'smtp' | 'outbox'; rendered: Rendered },
): Promise<boolean> {
  const result = await db
    .updateTable('mail_outbox')
    .set({
      status: 'sent',
      sent_at: input.now,
      delivered_via: input.via,
      text_body: input.rendered.text,
      html_body: input.rendered.html,
      message_id: input.rendered.messageId,
      locked_by: null,
      locked_until: null,
      next_attempt_at: null,
      last_error: null,
      updated_at: input.now,
    })
    .where('id', '=', input.id)
    .where('status', '=', 'sending')
    .where('locked_by', '=', input.workerId)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/**
 * After a failed attempt: back to pending until `nextAttemptAt`, or to a final status
 * (failed: attempts used up; dead: the server refused the address for good; skipped: the
 * message no longer applies). Only the lease holder may.
 */
export async function markMessageUnsent(
  db: Kysely<Database>,
  input: {
    id: string;
    workerId: string;
    now: number;
    status: Extract<MailStatus, 'pending' | 'failed' | 'dead' | 'skipped'>;
    nextAttemptAt: number | null;
    error: string;
    rendered: Rendered | null;
  },
): Promise<boolean> {
  const result = await db
    .updateTable('mail_outbox')
    .set({
      status: input.status,
      next_attempt_at: input.status === 'pending' ? input.nextAttemptAt : null,
      last_error: input.error,
      locked_by: null,
      locked_until: null,
      updated_at: input.now,
      ...(input.rendered
        ? { text_body: input.rendered.text, html_body: input.rendered.html, message_id: input.rendered.messageId }
        : {}),
    })
    .where('id', '=', input.id)
    .where('status', '=', 'sending')
    .where('locked_by', '=', input.workerId)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/**
 * A stopping worker's claims back to pending, due at once, so another worker sends them now
 * rather than when the lease would have ended. Only rows this worker still holds; returns how
 * many. The attempt stays counted: it was made, if not finished.
 */
export async function releaseClaims(db: Kysely<Database>, input: { workerId: string; now: number }): Promise<number> {
  const result = await db
    .updateTable('mail_outbox')
    .set({ status: 'pending', next_attempt_at: input.now, locked_by: null, locked_until: null, updated_at: input.now })
    .where('status', '=', 'sending')
    .where('locked_by', '=', input.workerId)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

export async function getOutboxRow(db: Kysely<Database>, id: string): Promise<OutboxRow | undefined> {
  return db.selectFrom('mail_outbox').selectAll().where('id', '=', id).executeTakeFirst();
}

export interface OutboxListQuery {
  status?: MailStatus;
  limit: number;
  /** Keyset: rows strictly older than this (created_at, id) pair. */
  before?: { createdAt: number; id: string };
}

/** Newest first, keyset-paginated on (created_at, id). */
export async function listOutboxRows(db: Kysely<Database>, q: OutboxListQuery): Promise<OutboxRow[]> {
  let query = db
    .selectFrom('mail_outbox')
    .selectAll()
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(q.limit);
  if (q.status) query = query.where('status', '=', q.status);
  const before = q.before;
  if (before) {
    query = query.where((eb) =>
      eb.or([
        eb('created_at', '<', before.createdAt),
        eb.and([eb('created_at', '=', before.createdAt), eb('id', '<', before.id)]),
      ]),
    );
  }
  return query.execute();
}

/**
 * An admin's resend: a failed or dead message goes back to pending, due now, with fresh
 * attempts and the address given. False when the message is not (any longer) failed or dead.
 */
export async function requeueOutboxRow(
  db: Kysely<Database>,
  input: { id: string; now: number; to: string },
): Promise<boolean> {
  const result = await db
    .updateTable('mail_outbox')
    .set({
      status: 'pending',
      to_address: input.to,
      attempts: 0,
      next_attempt_at: input.now,
      locked_by: null,
      locked_until: null,
      last_error: null,
      updated_at: input.now,
    })
    .where('id', '=', input.id)
    .where('status', 'in', ['failed', 'dead'])
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}
