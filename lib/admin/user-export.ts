import type { Kysely } from 'kysely';
import type { Database } from '../../db';
import { writeAudit } from '../../db/queries/audit';
import type { Clock } from '../clock';
import type { Actor } from './actor';
import { csvLine } from './csv';
import { listUsers, listUsersSchema, maxPageSize, type ListUsersInput, type UserSummary } from './user-directory';
import { parseInput } from './errors';

/** The CSV's columns, in order; times in ISO 8601 (UTC). */
export const userCsvColumns = [
  'id',
  'username',
  'display_name',
  'email',
  'state',
  'role',
  'mfa_required',
  'mfa_status',
  'enrollment_ends_at',
  'created_at',
  'last_sign_in_at',
] as const;

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

function userCsvLine(u: UserSummary): string {
  return csvLine([
    u.id,
    u.username,
    u.displayName,
    u.email,
    u.state,
    u.role,
    u.mfa.required ? 'yes' : 'no',
    u.mfa.status,
    iso(u.mfa.enrollmentEndsAt),
    iso(u.createdAt),
    iso(u.lastSignInAt),
  ]);
}

/**
 * The users list as filtered, as CSV lines (the header first): every page, read by keyset
 * 200 users at a time, so memory stays flat however many users match. The filters are the
 * list's own (listUsers()); `cursor` and `limit` are the export's to set. The export is
 * audited (`user.list_exported`, with the filters) before the first line.
 *
 * @throws ValidationError for a filter listUsers() refuses, before anything is written.
 */
export async function* exportUsersCsv(
  db: Kysely<Database>,
  input: Omit<ListUsersInput, 'cursor' | 'limit'>,
  actor: Actor,
  clock: Clock,
): AsyncGenerator<string> {
  const filters = parseInput(listUsersSchema, { ...input });
  const { cursor: _cursor, limit: _limit, ...audited } = filters;
  await writeAudit(db, {
    at: clock.now(),
    actorId: actor.id,
    actorLabel: actor.label,
    action: 'user.list_exported',
    details: { filters: audited },
    clientIp: actor.clientIp,
  });
  yield csvLine(userCsvColumns);
  let cursor: string | undefined;
  for (;;) {
    const page = await listUsers(db, { ...input, limit: maxPageSize, ...(cursor ? { cursor } : {}) }, clock);
    if (page.users.length > 0) yield page.users.map(userCsvLine).join('');
    if (page.nextCursor === null) return;
    cursor = page.nextCursor;
  }
}
