import type { ListUsersInput, MfaStatusName } from '../../../lib/admin/user-directory';

/**
 * The users list's query string ↔ listUsers() input. Every value is allow-listed here;
 * anything else is ignored (and the service validates again).
 */

export type RequirementFilter = '' | 'required' | 'not_required';
/** R-F2: active = enrolled, inactive = not enrolled; plus the column's own statuses (R-F1). */
export type StatusFilter = '' | 'active' | 'inactive' | Exclude<MfaStatusName, 'enrolled'>;
export type SortFilter = 'username' | 'newest';
/** `pending`: invited and not yet set a password. */
export type InvitedFilter = '' | 'pending';

export interface UserListQuery {
  q: string;
  required: RequirementFilter;
  status: StatusFilter;
  invited: InvitedFilter;
  sort: SortFilter;
  cursor: string | null;
  /** Cursors of the pages before this one, oldest first: what "Previous" goes back through. */
  trail: string[];
}

/** How many earlier pages "Previous" can walk back through before it restarts at the first. */
export const maxTrail = 25;

const requirementValues: readonly RequirementFilter[] = ['', 'required', 'not_required'];
const statusValues: readonly StatusFilter[] = ['', 'active', 'inactive', 'not_enrolled', 'enrollment_period', 'expired', 'pre_enrollment'];
const cursorPattern = /^[A-Za-z0-9_-]{1,512}$/;

function one(value: string | string[] | undefined): string {
  return typeof value === 'string' ? value : Array.isArray(value) ? (value[0] ?? '') : '';
}

export function parseUserListQuery(params: Record<string, string | string[] | undefined>): UserListQuery {
  const required = one(params.required) as RequirementFilter;
  const status = one(params.status) as StatusFilter;
  const cursor = one(params.cursor);
  return {
    q: one(params.q).slice(0, 100),
    required: requirementValues.includes(required) ? required : '',
    status: statusValues.includes(status) ? status : '',
    invited: one(params.invited) === 'pending' ? 'pending' : '',
    sort: one(params.sort) === 'newest' ? 'newest' : 'username',
    cursor: cursorPattern.test(cursor) ? cursor : null,
    trail: one(params.trail)
      .split('.')
      .filter((c) => cursorPattern.test(c))
      .slice(-maxTrail),
  };
}

/** The listUsers() input for a query, or a message when the console cannot ask for it. */
export function directoryInput(query: UserListQuery, limit: number): { input: ListUsersInput } | { message: string } {
  const input: ListUsersInput = { sort: query.sort, limit };
  if (query.q.trim()) input.q = query.q.trim();
  if (query.required === 'required') input.required = true;
  if (query.required === 'not_required') input.required = false;
  if (query.cursor) input.cursor = query.cursor;
  if (query.invited === 'pending') input.invited = true;
  switch (query.status) {
    case '':
      break;
    case 'active':
      input.enrolled = true;
      break;
    case 'inactive':
      input.enrolled = false;
      break;
    default:
      input.mfaStatus = query.status;
  }
  return { input };
}

/** The list's URL for a query; `page` moves the cursor and its trail. */
export function userListHref(query: UserListQuery, page: { cursor: string | null; trail: string[] } = { cursor: null, trail: [] }): string {
  const params = new URLSearchParams();
  if (query.q) params.set('q', query.q);
  if (query.required) params.set('required', query.required);
  if (query.status) params.set('status', query.status);
  if (query.invited) params.set('invited', query.invited);
  if (query.sort !== 'username') params.set('sort', query.sort);
  if (page.cursor) params.set('cursor', page.cursor);
  if (page.cursor && page.trail.length > 0) params.set('trail', page.trail.slice(-maxTrail).join('.'));
  const qs = params.toString();
  return qs ? `/admin/users?${qs}` : '/admin/users';
}

/** The CSV export of the list as filtered: the same filters and sort, no page position. */
export function exportHref(query: UserListQuery): string {
  return userListHref(query).replace(/^\/admin\/users/, '/admin/users/export');
}

/** Next: this page's cursor joins the trail. */
export function nextHref(query: UserListQuery, nextCursor: string): string {
  const trail = query.cursor ? [...query.trail, query.cursor] : [];
  return userListHref(query, { cursor: nextCursor, trail });
}

/** Previous: the last cursor of the trail (none: the first page). */
export function previousHref(query: UserListQuery): string | null {
  if (!query.cursor) return null;
  const trail = [...query.trail];
  const previous = trail.pop() ?? null;
  return userListHref(query, { cursor: previous, trail });
}
