import { requirePermission } from '../../../lib/admin/console-guard';
import { auditActionLabel, auditActionOptions, isKnownAuditAction } from '../../../lib/admin/audit-describe';
import type { ListAuditInput } from '../../../lib/admin/audit-log';
import { readAuditPage, type ReadableAuditEntry } from '../../../lib/admin/audit-readable';
import { isValidationError } from '../../../lib/errors/brand';
import { LocalTime } from '../_components/local-time';
import { AdminShell } from '../_components/shell';
import { auditFilterNames, auditHref, type AuditFilters } from './filters';

export const dynamic = 'force-dynamic';
export const metadata = { title: 'Audit log' };

type SearchParams = Promise<Record<string, string | string[] | undefined>>;

function one(value: string | string[] | undefined): string {
  return typeof value === 'string' ? value.slice(0, 300) : '';
}

/** Every change with its actor, target and client address, in words; newest first, keyset pages. */
export default async function AuditPage({ searchParams }: { searchParams: SearchParams }) {
  const query = await searchParams;
  const filters = Object.fromEntries(auditFilterNames.map((n) => [n, one(query[n]).trim()])) as AuditFilters;
  const cursor = one(query.cursor);
  const { session, db } = await requirePermission('audit.view', auditHref(filters, cursor)); // R-D9

  const input: ListAuditInput = { limit: 50 };
  for (const n of auditFilterNames) if (filters[n]) input[n] = filters[n];
  if (cursor) input.cursor = cursor;
  let entries: ReadableAuditEntry[] = [];
  let nextCursor: string | null = null;
  let message: string | null = null;
  try {
    ({ entries, nextCursor } = await readAuditPage(db, input));
  } catch (err) {
    if (!isValidationError(err)) throw err;
    message = Object.values(err.fieldErrors).flat().join(' ') || err.message;
  }
  const unknownAction = filters.action && !isKnownAuditAction(filters.action) ? filters.action : null;

  return (
    <AdminShell title="Audit log" session={session} current="/admin/audit">
      <form method="get" action="/admin/audit" role="search" aria-label="Filter the audit log">
        <div className="row">
          <div>
            <label htmlFor="action">Action</label>
            <select id="action" name="action" defaultValue={filters.action}>
              <option value="">Any action</option>
              {auditActionOptions.map((o) => (
                <option key={o.value} value={o.value}>
                  {o.label}
                </option>
              ))}
              {unknownAction && <option value={unknownAction}>{unknownAction}</option>}
            </select>
          </div>
          <div>
            <label htmlFor="actor">Actor</label>
            <input id="actor" name="actor" type="text" defaultValue={filters.actor} placeholder="username, cli, api-key:name" />
          </div>
          <div>
            <label htmlFor="from">From (UTC day)</label>
            <input id="from" name="from" type="date" defaultValue={filters.from} />
          </div>
          <div>
            <label htmlFor="to">To (UTC day)</label>
            <input id="to" name="to" type="date" defaultValue={filters.to} />
          </div>
          {filters.targetType && <input type="hidden" name="targetType" value={filters.targetType} />}
          {filters.targetId && <input type="hidden" name="targetId" value={filters.targetId} />}
          <button type="submit">Filter</button>
        </div>
      </form>
      {(filters.targetType || filters.targetId) && (
        <p className="hint">
          Only entries about {filters.targetType || 'a target'} {filters.targetId}.{' '}
          <a href={auditHref({ ...filters, targetType: '', targetId: '' })}>Show every target</a>
        </p>
      )}
      <p>
        <a href={auditHref(filters, undefined, '/admin/audit/export')} download>
          Download CSV
        </a>{' '}
        <span className="hint">(every entry the filter matches)</span>
      </p>
      {message && (
        <p className="error" role="alert">
          {message}
        </p>
      )}
      <table>
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Event</th>
            <th scope="col">Details</th>
            <th scope="col">Client IP</th>
          </tr>
        </thead>
        <tbody>
          {entries.length === 0 ? (
            <tr>
              <td colSpan={4}>No entries.</td>
            </tr>
          ) : (
            entries.map((e) => (
              <tr key={e.id}>
                <td>
                  <LocalTime at={e.at} />
                </td>
                <td>
                  <span data-testid="audit-line">{e.line}</span>
                  <p className="hint">
                    <a href={auditHref({ ...filters, action: e.action })}>{auditActionLabel(e.action)}</a>
                    {e.target.type && e.target.id && (
                      <>
                        {' · '}
                        <a href={auditHref({ ...filters, targetType: e.target.type, targetId: e.target.id })}>Entries about {e.targetName}</a>
                      </>
                    )}
                  </p>
                </td>
                <td>
                  {e.detailItems.length > 0 && (
                    <dl className="audit-details">
                      {e.detailItems.map((d, i) => (
                        <div key={i}>
                          <dt>{d.label}</dt>
                          <dd>{'at' in d ? <LocalTime at={d.at} /> : d.text}</dd>
                        </div>
                      ))}
                    </dl>
                  )}
                </td>
                <td>{e.clientIp ?? '—'}</td>
              </tr>
            ))
          )}
        </tbody>
      </table>
      <nav className="pager" aria-label="Pages">
        {cursor && <a href={auditHref(filters)}>Newest entries</a>}
        {nextCursor && <a href={auditHref(filters, nextCursor)}>Older entries</a>}
      </nav>
    </AdminShell>
  );
}
