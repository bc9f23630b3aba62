import { z } from 'zod';
import type { Kysely } from 'kysely';
import type { Database } from '../../db';
import type { UserRole, UserState } from '../../db/schema';
import { listFactorsOfUser, type FactorSummary } from '../../db/queries/mfa';
import {
  anyGraceRunning,
  getUserListRow,
  listGroupsOfUser,
  listUserRows,
  type UserKeyset,
  type UserListRow,
} from '../../db/queries/user-directory';
import { latestAccountToken, type AccountTokenRow } from '../../db/queries/account-tokens';
import { userHasPassword } from '../../db/queries/users';
import { loadCountingFactorTypes } from '../factors/counting';
import { mfaStatus, statusWithGrace, type MfaStatusName } from '../policy';
import type { Clock } from '../clock';
import { decodeCursor, encodeCursor, invalidCursorMessage, maxCursorLength } from './cursor';
import { NotFoundError, parseInput, ValidationError } from './errors';

/**
 * The admin users directory (R-F1..R-F3): the list with its MFA column and filters, one
 * user's detail, and the per-status counts for the list header. Read-only; changes go
 * through the services beside this one.
 */

export type { MfaStatusName } from '../policy';
/** Every status, in the order the console shows them. */
export const mfaStatusNames = ['enrolled', 'not_enrolled', 'enrollment_period', 'expired', 'pre_enrollment'] as const satisfies readonly MfaStatusName[];

export const defaultPageSize = 50;
export const maxPageSize = 200;
export const maxSearchLength = 100;
export const userSorts = ['username', 'newest'] as const;

/** Filters and sorts are allow-listed: anything else is refused, never passed through. */
export const listUsersSchema = z.strictObject(
  {
    q: z
      .string('Search must be text.')
      .trim()
      .max(maxSearchLength, `Search is at most ${maxSearchLength} characters.`)
      .optional(),
    required: z.boolean('MFA requirement filter must be true (required) or false (not required).').optional(),
    mfaStatus: z
      .enum(mfaStatusNames, `MFA status must be one of: ${mfaStatusNames.join(', ')}.`)
      .optional(),
    enrolled: z.boolean('MFA active filter must be true (active: enrolled) or false (inactive: not enrolled).').optional(),
    state: z.enum(['staged', 'active', 'suspended'], 'State must be staged, active or suspended.').optional(),
    invited: z.boolean('Invited filter must be true (invited, password not set yet) or false.').optional(),
    sort: z.enum(userSorts, `Sort must be one of: ${userSorts.join(', ')}.`).default('username'),
    limit: z
      .number('Limit must be a whole number.')
      .int('Limit must be a whole number.')
      .min(1, `Limit must be from 1 to ${maxPageSize}.`)
      .max(maxPageSize, `Limit must be from 1 to ${maxPageSize}.`)
      .default(defaultPageSize),
    cursor: z.string('Cursor must be text.').max(maxCursorLength, invalidCursorMessage).optional(),
  },
  { error: (issue) => (issue.code === 'unrecognized_keys' ? `Unknown filter: ${issue.keys.join(', ')}.` : 'Expected list options.') },
);

export type ListUsersInput = z.input<typeof listUsersSchema>;

const userCursorSchema = z.discriminatedUnion('s', [
  z.strictObject({ v: z.literal(1), s: z.literal('username'), k: z.tuple([z.string().max(300), z.string().max(200)]) }),
  z.strictObject({
    v: z.literal(1),
    s: z.literal('newest'),
    k: z.tuple([z.number().int().min(0).max(Number.MAX_SAFE_INTEGER), z.string().max(200)]),
  }),
]);

export interface UserMfaSummary {
  required: boolean;
  status: MfaStatusName;
  /** Days of the period; for a pre-enrollment user, the period they get on activation. */
  enrollmentDays: number | null;
  /** Set for "enrollment_period" and "expired" (ms since the epoch), as mfaStatus() gives them. */
  enrollmentStartsAt: number | null;
  enrollmentEndsAt: number | null;
}

export interface UserSummary {
  id: string;
  username: string;
  email: string | null;
  displayName: string | null;
  state: UserState;
  role: UserRole;
  createdAt: number;
  /** The latest sign-in (ms since the epoch), or null if the user never signed in. */
  lastSignInAt: number | null;
  mfa: UserMfaSummary;
}

export interface UserDetail extends Omit<UserSummary, 'mfa'> {
  mfa: UserMfaSummary & { factors: FactorSummary[] };
  groups: { id: string; name: string }[];
  /** The newest invitation, if the user was ever invited (lib/admin/invitations.ts). */
  invitation: InvitationSummary | null;
}

export interface InvitationSummary {
  /**
   * `unsent`: a staged user's, sent at activation; `open`: valid until `expiresAt`; `expired`;
   * `accepted`: the password was set through it; `voided`: replaced, or the password was set otherwise.
   */
  status: 'unsent' | 'open' | 'expired' | 'accepted' | 'voided';
  invitedAt: number;
  expiresAt: number | null;
  /** Whether the user has set a password (by this link or otherwise). */
  passwordSet: boolean;
}

function invitationSummary(row: AccountTokenRow | undefined, passwordSet: boolean, now: number): InvitationSummary | null {
  if (!row) return null;
  const expiresAt = row.expires_at === null ? null : Number(row.expires_at);
  const status: InvitationSummary['status'] =
    row.used_at !== null ? 'accepted' : row.voided_at !== null ? 'voided' : expiresAt === null ? 'unsent' : expiresAt <= now ? 'expired' : 'open';
  return { status, invitedAt: Number(row.created_at), expiresAt, passwordSet };
}

export interface UserPage {
  users: UserSummary[];
  /** Pass back as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
}

function summaryOf(row: UserListRow, now: number): UserSummary {
  // enrollment_days is NOT NULL, so it is null only when there is no requirement row.
  const requirement =
    row.enrollmentDays === null
      ? null
      : { required: row.required, enrollmentDays: row.enrollmentDays, periodStartsAt: row.periodStartsAt, periodEndsAt: row.periodEndsAt };
  const grace = row.graceEndsAt === null ? null : { startsAt: row.graceStartsAt ?? now, endsAt: row.graceEndsAt };
  // Issue 18 part 6: a policy's grace window shows as an enrollment period.
  const status = statusWithGrace(mfaStatus({ state: row.state }, requirement, row.enrolled, now), grace, row);
  return {
    id: row.id,
    username: row.username,
    email: row.email,
    displayName: row.displayName,
    state: row.state,
    role: row.role,
    createdAt: row.createdAt,
    lastSignInAt: row.lastSignInAt,
    mfa: {
      required: row.required,
      status: status.status,
      enrollmentDays: row.required ? row.enrollmentDays : null,
      enrollmentStartsAt: status.startsAt,
      enrollmentEndsAt: status.endsAt,
    },
  };
}

/**
 * One page of the users list, by username (default) or newest first.
 *
 * @param input filters: `q` (username, email or display name contains, case-insensitive),
 *   `required`, `mfaStatus`, `state`; `sort`; `limit` 1–200 (default 50); `cursor` from
 *   the previous page.
 * @throws ValidationError for an unknown filter, a bad value or a cursor that is not ours.
 * @example const page = await listUsers(db, { mfaStatus: 'expired', limit: 20 }, clock)
 */
export async function listUsers(db: Kysely<Database>, input: ListUsersInput, clock: Clock): Promise<UserPage> {
  const options = parseInput(listUsersSchema, input ?? {});
  let after: UserKeyset | null = null;
  if (options.cursor !== undefined) {
    const cursor = decodeCursor(options.cursor, userCursorSchema);
    // A cursor from another sort order names a position in a different list.
    if (cursor.s !== options.sort) throw new ValidationError({ cursor: [invalidCursorMessage] }, invalidCursorMessage);
    after =
      cursor.s === 'username'
        ? { sort: 'username', usernameLower: cursor.k[0], id: cursor.k[1] }
        : { sort: 'newest', createdAt: cursor.k[0], id: cursor.k[1] };
  }
  const now = clock.now();
  const [rule, grace] = await Promise.all([loadCountingFactorTypes(db), anyGraceRunning(db, now)]);
  const rows = await listUserRows(db, {
    grace,
    filter: {
      ...(options.q ? { q: options.q } : {}),
      ...(options.required !== undefined ? { required: options.required } : {}),
      ...(options.mfaStatus !== undefined ? { status: options.mfaStatus } : {}),
      ...(options.enrolled !== undefined ? { enrolled: options.enrolled } : {}),
      ...(options.state !== undefined ? { state: options.state } : {}),
      ...(options.invited !== undefined ? { invited: options.invited } : {}),
    },
    rule,
    now,
    sort: options.sort,
    after,
    limit: options.limit + 1,
  });
  const page = rows.slice(0, options.limit);
  const last = page[page.length - 1];
  const nextCursor =
    rows.length > options.limit && last
      ? encodeCursor(
          options.sort === 'username'
            ? { v: 1, s: 'username', k: [last.usernameLower, last.id] }
            : { v: 1, s: 'newest', k: [last.createdAt, last.id] },
        )
      : null;
  return { users: page.map((row) => summaryOf(row, now)), nextCursor };
}

/**
 * R-F3: one user with their MFA status, factors (never secrets) and groups.
 * @throws NotFoundError('user')
 */
export async function getUserDetail(db: Kysely<Database>, id: string, clock: Clock): Promise<UserDetail> {
  const rule = await loadCountingFactorTypes(db);
  const row = typeof id === 'string' && id.length <= 200 ? await getUserListRow(db, id, rule, clock.now()) : undefined;
  if (!row) throw new NotFoundError('user', [String(id).slice(0, 200)]);
  const summary = summaryOf(row, clock.now());
  const [factors, groups, invitation, passwordSet] = await Promise.all([
    listFactorsOfUser(db, id),
    listGroupsOfUser(db, id),
    latestAccountToken(db, id, 'invitation'),
    userHasPassword(db, id),
  ]);
  return { ...summary, mfa: { ...summary.mfa, factors }, groups, invitation: invitationSummary(invitation, passwordSet, clock.now()) };
}

export { countUsersByStatus, invalidateUserCounts, userCountsRefresh, userCountsMaxAgeMs, type UserCounts } from './user-counts';
