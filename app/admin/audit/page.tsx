import { formatDateTime } from '../../../lib/format';
import { requireAdmin } from '../../../lib/admin/console-guard';
import { listAudit, type AuditEntryView, type ListAuditInput } from '../../../lib/admin/audit-log';
import { isValidationError } from '../../../lib/errors/brand';
import { AdminShell } from '../_components/shell';

export const dynamic = 'force-dynamic';

type SearchParams = Promise<Record<string, string | string[] | undefined>>;

const filterNames = ['actor', 'action', 'targetType', 'targetId'] as const;

function one(value: string | string[] | undefined): string {
  return typeof value === 'string' ? value.slice(0, 300) : '';
}

function href(filters: Record<string, string>, cursor?: string): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(filters)) if (v) params.set(k, v);
  if (cursor) params.set('cursor', cursor);
  const qs = params.toString();
  return qs ? `/admin/audit?${qs}` : '/admin/audit';
}

/** Every change with its actor, target and client address; newest first, keyset pages. */
export default async function AuditPage({ searchParams }: { searchParams: SearchParams }) {
  const query = await searchParams;
  const filters = Object.fromEntries(filterNames.map((n) => [n, one(query[n]).trim()])) as Record<(typeof filterNames)[number], string>;
  const cursor = one(query.cursor);
  const { session, db } = await requireAdmin(href(filters, cursor)); // R-D9

  const input: ListAuditInput = { limit: 50 };
  for (const n of filterNames) if (filters[n]) input[n] = filters[n];
  if (cursor) input.cursor = cursor;
  let entries: AuditEntryView[] = [];
  let nextCursor: string | null = null;
  let message: string | null = null;
  try {
    ({ entries, nextCursor } = await listAudit(db, input));
  } catch (err) {
    if (!(isValidationError(err))) throw err;
    message = Object.values(err.fieldErrors).flat().join(' ') || err.message;
  }

  return (
    <AdminShell title="Audit log" session={session} current="/admin/audit">
      <form method="get" action="/admin/audit" role="search" aria-label="Filter the audit log">
        <div className="row">
          <div>
            <label htmlFor="actor">Actor</label>
            <input id="actor" name="actor" type="text" defaultValue={filters.actor} placeholder="username, cli, api-key:name" />
          </div>
          <div>
            <label htmlFor="action">Action</label>
            <input id="action" name="action" type="text" defaultValue={filters.action} placeholder="mfa.required" />
          </div>
          <div>
            <label htmlFor="targetType">Target type</label>
            <input id="targetType" name="targetType" type="text" defaultValue={filters.targetType} placeholder="user, policy, group" />
          </div>
          <div>
            <label htmlFor="targetId">Target id</label>
            <input id="targetId" name="targetId" type="text" defaultValue={filters.targetId} />
          </div>
          <button type="submit">Filter</button>
        </div>
      </form>
      {message && (
        <p className="error" role="alert">
          {message}
        </p>
      )}
      <table>
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Actor</th>
            <th scope="col">Action</th>
            <th scope="col">Target</th>
            <th scope="col">Client IP</th>
            <th scope="col">Details</th>
          </tr>
        </thead>
        <tbody>
          {entries.length === 0 ? (
            <tr>
              <td colSpan={6}>No entries.</td>
            </tr>
          ) : (
            entries.map((e) => (
              <tr key={e.id}>
                <td>{formatDateTime(e.at)}</td>
                <td>
                  <a href={href({ actor: e.actor.label })}>{e.actor.label}</a>
                </td>
                <td>
                  <a href={href({ action: e.action })}>{e.action}</a>
                </td>
                <td>
                  {e.target.type && e.target.id ? (
                    <a href={href({ targetType: e.target.type, targetId: e.target.id })}>
                      {e.target.type} {e.target.id}
                    </a>
                  ) : (
                    (e.target.type ?? '—')
                  )}
                </td>
                <td>{e.clientIp ?? '—'}</td>
                <td>{e.details === null ? '' : <pre className="details">{JSON.stringify(e.details, null, 1)}</pre>}</td>
              </tr>
            ))
          )}
        </tbody>
      </table>
      <nav className="pager" aria-label="Pages">
        {cursor && <a href={href(filters)}>Newest entries</a>}
        {nextCursor && <a href={href(filters, nextCursor)}>Older entries</a>}
      </nav>
    </AdminShell>
  );
}
