/** The audit page's query string: shared by the page and its CSV export. */

export const auditFilterNames = ['actor', 'action', 'targetType', 'targetId', 'from', 'to'] as const;

export type AuditFilters = Record<(typeof auditFilterNames)[number], string>;

export function auditHref(filters: Partial<AuditFilters>, cursor?: string, path = '/admin/audit'): string {
  const params = new URLSearchParams();
  for (const n of auditFilterNames) if (filters[n]) params.set(n, filters[n]!);
  if (cursor) params.set('cursor', cursor);
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}
