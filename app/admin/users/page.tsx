import { systemClock } from '../../../lib/clock';
import { formatDateTime } from '../../../lib/format';
import { requirePermission } from '../../../lib/admin/console-guard';
import { isValidationError } from '../../../lib/errors/brand';
import { countUsersByStatus, listUsers, mfaStatusNames, type UserPage } from '../../../lib/admin/user-directory';
import { defaultEnrollmentDays } from '../../../lib/policy';
import { AdminShell } from '../_components/shell';
import { mfaStatusDetail, mfaStatusText } from '../_lib/mfa-status';
import { bulkUsersAction } from './actions';
import { can } from '../../../lib/admin/permissions';
import { directoryInput, exportHref, nextHref, parseUserListQuery, previousHref, userListHref } from './filters';
import { UsersTable, type UserRowView } from './users-table';
import type { Metadata } from 'next';

export const metadata: Metadata = { title: 'Users' };

export const dynamic = 'force-dynamic';

const pageSize = 50;

type SearchParams = Promise<Record<string, string | string[] | undefined>>;

/** R-F1, R-F2, R-B2: the users list with its MFA column, filters, keyset pages and bulk action. */
export default async function UsersPage({ searchParams }: { searchParams: SearchParams }) {
  const params = await searchParams;
  const query = parseUserListQuery(params);
  const { session, db } = await requirePermission('users.view', userListHref(query, { cursor: query.cursor, trail: query.trail })); // R-D9

  const mapped = directoryInput(query, pageSize);
  let page: UserPage = { users: [], nextCursor: null };
  let message: string | null = null;
  if ('message' in mapped) {
    message = mapped.message;
  } else {
    try {
      page = await listUsers(db, mapped.input, systemClock);
    } catch (err) {
      if (!(isValidationError(err))) throw err;
      message = Object.values(err.fieldErrors).flat().join(' ') || err.message;
    }
  }
  const counts = await countUsersByStatus(db, systemClock);
  const rows: UserRowView[] = page.users.map((u) => ({
    id: u.id,
    username: u.username,
    displayName: u.displayName,
    email: u.email,
    state: u.state,
    role: u.role,
    required: u.mfa.required,
    mfaText: mfaStatusText[u.mfa.status],
    mfaDetail: mfaStatusDetail(u.mfa),
    lastSignIn: u.lastSignInAt === null ? 'Never' : formatDateTime(u.lastSignInAt),
  }));
  const previous = previousHref(query);

  return (
    <AdminShell title="Users" session={session} current="/admin/users">
      {can(session.role, 'users.create') && (
        <p>
          <a href="/admin/users/new">New user</a>
        </p>
      )}
      <section aria-label="Users by MFA status">
        <ul className="counts">
          <li>
            <strong>{counts.total.toLocaleString('en-US')}</strong> users
          </li>
          {mfaStatusNames.map((s) => (
            <li key={s}>
              {mfaStatusText[s]}: {counts.byStatus[s].toLocaleString('en-US')}
            </li>
          ))}
        </ul>
        <p className="hint">Counted {formatDateTime(counts.asOf)}; counted again after every change made here, and every 30 seconds.</p>
      </section>

      <form method="get" action="/admin/users" role="search" aria-label="Find users">
        <div className="row">
          <div>
            <label htmlFor="q">Search</label>
            <input id="q" name="q" type="search" defaultValue={query.q} placeholder="Username, email or name" maxLength={100} />
          </div>
          <div>
            <label htmlFor="required">MFA requirement</label>
            <select id="required" name="required" defaultValue={query.required}>
              <option value="">Any</option>
              <option value="required">Required</option>
              <option value="not_required">Not required</option>
            </select>
          </div>
          <div>
            <label htmlFor="invited">Invitation</label>
            <select id="invited" name="invited" defaultValue={query.invited}>
              <option value="">Any</option>
              <option value="pending">Invited, not set up yet</option>
            </select>
          </div>
          <div>
            <label htmlFor="status">MFA status</label>
            <select id="status" name="status" defaultValue={query.status}>
              <option value="">Any</option>
              <option value="active">Active (enrolled)</option>
              <option value="inactive">Inactive (not enrolled)</option>
              <optgroup label="Inactive, by status">
                <option value="enrollment_period">In enrollment period</option>
                <option value="expired">Enrollment expired</option>
                <option value="pre_enrollment">Pre-enrollment</option>
                <option value="not_enrolled">Not enrolled, not required</option>
              </optgroup>
            </select>
          </div>
          <div>
            <label htmlFor="sort">Sort</label>
            <select id="sort" name="sort" defaultValue={query.sort}>
              <option value="username">Username</option>
              <option value="newest">Newest first</option>
            </select>
          </div>
          <button type="submit">Apply</button>
        </div>
      </form>

      {message && (
        <p className="error" role="alert">
          {message}
        </p>
      )}

      {can(session.role, 'users.export') && (
        <p>
          <a href={exportHref(query)} download>
            Export these users as CSV
          </a>{' '}
          <span className="hint">(every page of the list as filtered, not only this one)</span>
        </p>
      )}

      <UsersTable users={rows} action={bulkUsersAction} defaultDays={defaultEnrollmentDays} bulk={can(session.role, 'users.edit')} />

      {/* Links styled as buttons; an unavailable step is a disabled-looking label, not a link. */}
      <nav className="pager" aria-label="Pages">
        {previous !== null ? (
          <a className="button-link" href={previous} rel="prev">
            Previous
          </a>
        ) : (
          <span className="button-link disabled">
            Previous
          </span>
        )}
        {page.nextCursor ? (
          <a className="button-link" href={nextHref(query, page.nextCursor)} rel="next">
            Next
          </a>
        ) : (
          <span className="button-link disabled">
            Next
          </span>
        )}
        {query.cursor && (
          <a className="button-link" href={userListHref(query)}>
            First page
          </a>
        )}
      </nav>
    </AdminShell>
  );
}
