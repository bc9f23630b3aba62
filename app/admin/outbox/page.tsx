import { formatDateTime } from '../../../lib/format';
import { requirePermission } from '../../../lib/admin/console-guard';
import { isValidationError } from '../../../lib/errors/brand';
import { keptWithoutSmtp, listOutbox, mailStatuses, type OutboxPage } from '../../../lib/mail/outbox';
import { AdminShell } from '../_components/shell';
import { resendAction } from './actions';

export const dynamic = 'force-dynamic';
export const metadata = { title: 'Email outbox' };

type SearchParams = Promise<Record<string, string | string[] | undefined>>;

const errorMessages: Record<string, string> = {
  not_found: 'That message no longer exists.',
  not_resendable: 'Only failed or undeliverable messages can be resent; that one changed meanwhile.',
  no_address: 'The user has no email address: add one on their page first.',
};

function one(value: string | string[] | undefined): string {
  return typeof value === 'string' ? value.slice(0, 600) : '';
}

function href(status: string, cursor?: string): string {
  const params = new URLSearchParams();
  if (status) params.set('status', status);
  if (cursor) params.set('cursor', cursor);
  const qs = params.toString();
  return qs ? `/admin/outbox?${qs}` : '/admin/outbox';
}

/** The email outbox: every message the portal queued, its status, and a resend for failures. */
export default async function OutboxPage({ searchParams }: { searchParams: SearchParams }) {
  const query = await searchParams;
  const status = (mailStatuses as readonly string[]).includes(one(query.status)) ? one(query.status) : '';
  const cursor = one(query.cursor);
  const { session, db } = await requirePermission('outbox.view', href(status, cursor)); // R-D9
  let page: OutboxPage = { messages: [], nextCursor: null };
  let message: string | null = null;
  try {
    page = await listOutbox(db, { limit: 50, ...(status ? { status } : {}), ...(cursor ? { cursor } : {}) });
  } catch (err) {
    if (!(isValidationError(err))) throw err;
    message = Object.values(err.fieldErrors).flat().join(' ') || err.message;
  }
  const error = errorMessages[one(query.error)];
  return (
    <AdminShell title="Email outbox" session={session} current="/admin/outbox">
      {query.done === 'resent' && (
        <p className="notice" role="status">
          Message queued again: it goes out with the next delivery run.
        </p>
      )}
      {(error || message) && (
        <p className="error" role="alert">
          {error ?? message}
        </p>
      )}
      <form method="get" action="/admin/outbox" aria-label="Filter the outbox">
        <div className="row">
          <div>
            <label htmlFor="status">Status</label>
            <select id="status" name="status" defaultValue={status}>
              <option value="">Any</option>
              {mailStatuses.map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
            </select>
          </div>
          <button type="submit">Filter</button>
        </div>
      </form>
      <table>
        <thead>
          <tr>
            <th scope="col">Queued</th>
            <th scope="col">To</th>
            <th scope="col">Subject</th>
            <th scope="col">Status</th>
            <th scope="col">Attempts</th>
            <th scope="col">Last error</th>
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {page.messages.length === 0 ? (
            <tr>
              <td colSpan={7}>No messages.</td>
            </tr>
          ) : (
            page.messages.map((m) => (
              <tr key={m.id}>
                <td>{formatDateTime(m.createdAt)}</td>
                <td>{m.to ?? '—'}</td>
                <td>
                  <a href={`/admin/outbox/${encodeURIComponent(m.id)}`}>{m.subject}</a>
                  <p className="hint">{m.kind}</p>
                </td>
                <td data-testid="mail-status">
                  {keptWithoutSmtp(m) ? (
                    'not sent: no SMTP server configured'
                  ) : (
                    <>
                      {m.status}
                      {m.sentAt ? <p className="hint">sent {formatDateTime(m.sentAt)}{m.deliveredVia === 'smtp' ? ' via SMTP' : ''}</p> : null}
                    </>
                  )}
                  {m.nextAttemptAt ? <p className="hint">next try {formatDateTime(m.nextAttemptAt)}</p> : null}
                </td>
                <td>{m.attempts}</td>
                <td>{m.lastError ?? ''}</td>
                <td>
                  {m.resendable && (
                    <form action={resendAction} className="inline">
                      <input type="hidden" name="messageId" value={m.id} />
                      <input type="hidden" name="status" value={status} />
                      <button type="submit" className="secondary">
                        Resend
                      </button>
                    </form>
                  )}
                </td>
              </tr>
            ))
          )}
        </tbody>
      </table>
      <nav className="pager" aria-label="Pages">
        {cursor && <a href={href(status)}>Newest messages</a>}
        {page.nextCursor && <a href={href(status, page.nextCursor)}>Older messages</a>}
      </nav>
    </AdminShell>
  );
}
