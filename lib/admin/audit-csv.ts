import type { Kysely } from 'kysely';
import type { Database } from '../../db';
import { listAudit, maxAuditPageSize, type ListAuditInput } from './audit-log';
import { readableEntries } from './audit-readable';

/** The filtered audit log as CSV (RFC 4180), written page by page so any size streams. */

export const auditCsvHeader = ['Time (UTC)', 'Actor', 'Action', 'Target type', 'Target id', 'Target', 'Event', 'Client IP', 'Details'] as const;

/**
 * One CSV field, quoted. A value a spreadsheet would run as a formula (=, +, -, @, tab,
 * carriage return first) gets a leading apostrophe: the log holds text people typed
 * (names, descriptions), and opening an export must never execute it (CSV injection).
 */
export function csvField(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return `"${safe.replace(/"/g, '""')}"`;
}

export function csvLine(fields: readonly string[]): string {
  return `${fields.map(csvField).join(',')}\r\n`;
}

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
