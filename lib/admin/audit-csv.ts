import type { Kysely } from 'kysely';
import type { Database } from '../../db';
import { listAudit, maxAuditPageSize, type ListAuditInput } from './audit-log';
import { readableEntries } from './audit-readable';
import { csvLine } from './csv';

/** The filtered audit log as CSV (lib/admin/csv.ts), written page by page so any size streams. */

export const auditCsvHeader = ['Time (UTC)', 'Actor', 'Action', 'Target type', 'Target id', 'Target', 'Event', 'Client IP', 'Details'] as const;

export type AuditCsvFilter = Omit<ListAuditInput, 'cursor' | 'limit'>;

/**
 * The header, then every entry matching `filter`, newest first, fetched in keyset pages.
 * Validates the filter before anything is written.
 * @throws ValidationError (from listAudit) for a bad filter, before the first line.
 */
export async function* auditCsv(db: Kysely<Database>, filter: AuditCsvFilter, pageSize = maxAuditPageSize): AsyncGenerator<string> {
  let page = await listAudit(db, { ...filter, limit: pageSize });
  yield csvLine(auditCsvHeader);
  for (;;) {
    for (const e of await readableEntries(db, page.entries)) {
      yield csvLine([
        new Date(e.at).toISOString(),
        e.actorName,
        e.action,
        e.target.type ?? '',
        e.target.id ?? '',
        e.targetName ?? '',
        e.line,
        e.clientIp ?? '',
        e.detailItems.map((d) => `${d.label}: ${'at' in d ? new Date(d.at).toISOString() : d.text}`).join('; '),
      ]);
    }
    if (!page.nextCursor) return;
    page = await listAudit(db, { ...filter, limit: pageSize, cursor: page.nextCursor });
  }
}
