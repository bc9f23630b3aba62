import type { Kysely } from 'kysely';
import type { Database } from '../../db';
import { auditSubjectNames, type AuditSubjectKind } from '../../db/queries/audit';
import { listAudit, type AuditEntryView, type ListAuditInput } from './audit-log';
import { auditDetails, actorText, describeAuditEntry, subjectKey, targetText, type AuditDetail, type SubjectName } from './audit-describe';

/** The audit log as people read it: names for ids, one line per entry, details in words. */

export interface ReadableAuditEntry extends AuditEntryView {
  /** "Ada Admin (ada) required MFA for Nina New (nina)". */
  line: string;
  actorName: string;
  targetName: string | null;
  detailItems: AuditDetail[];
}

const subjectKinds: readonly AuditSubjectKind[] = ['user', 'policy', 'group', 'api_key'];

function isSubjectKind(type: string | null): type is AuditSubjectKind {
  return type !== null && (subjectKinds as readonly string[]).includes(type);
}

/** Names every entry's actor and target with one statement for the whole page, not one per row. */
export async function readableEntries(db: Kysely<Database>, entries: readonly AuditEntryView[]): Promise<ReadableAuditEntry[]> {
  const ids: Record<AuditSubjectKind, Set<string>> = { user: new Set(), policy: new Set(), group: new Set(), api_key: new Set() };
  for (const e of entries) {
    if (e.actor.id) ids.user.add(e.actor.id);
    if (isSubjectKind(e.target.type) && e.target.id) ids[e.target.type].add(e.target.id);
  }
  const rows =
    entries.length === 0
      ? []
      : await auditSubjectNames(db, { user: [...ids.user], policy: [...ids.policy], group: [...ids.group], api_key: [...ids.api_key] });
  const names = new Map<string, SubjectName>(rows.map((r) => [subjectKey(r.kind, r.id), { name: r.name, username: r.username }]));
  return entries.map((e) => ({
    ...e,
    line: describeAuditEntry(e, names),
    actorName: actorText(e.actor, names),
    targetName: e.target.type ? targetText(e, names) : null,
    detailItems: auditDetails(e.details),
  }));
}

/**
 * A page of the audit log, readable (same filters, validation and keyset as listAudit).
 * @throws ValidationError as listAudit does.
 */
export async function readAuditPage(
  db: Kysely<Database>,
  input: ListAuditInput,
): Promise<{ entries: ReadableAuditEntry[]; nextCursor: string | null }> {
  const page = await listAudit(db, input);
  return { entries: await readableEntries(db, page.entries), nextCursor: page.nextCursor };
}
