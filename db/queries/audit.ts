import type { Kysely } from 'kysely';
import type { Database } from '../schema';

export interface AuditEntry {
  at: number;
  actorId: string | null;
  /** Who acted, readable even after the actor is deleted: a username, "cli", "api-key:<name>", "system". */
  actorLabel: string;
  action: string;
  targetType?: string | null;
  targetId?: string | null;
  details?: Record<string, unknown> | null;
  clientIp?: string | null;
}

/** Call it with the transaction that made the change, so change and entry land together. */
export async function writeAudit(db: Kysely<Database>, entry: AuditEntry): Promise<void> {
  await db
    .insertInto('audit_log')
    .values({
      at: entry.at,
      actor_id: entry.actorId,
      actor_label: entry.actorLabel,
      action: entry.action,
      target_type: entry.targetType ?? null,
      target_id: entry.targetId ?? null,
      details: entry.details ? JSON.stringify(entry.details) : null,
      client_ip: entry.clientIp ?? null,
    })
    .execute();
}

export async function listAuditEntries(
  db: Kysely<Database>,
  filter: {
    action?: string;
    actorId?: string;
    actorLabel?: string;
    targetType?: string;
    targetId?: string;
    beforeId?: number;
    limit: number;
  },
) {
  let query = db.selectFrom('audit_log').selectAll().orderBy('id', 'desc').limit(filter.limit);
  if (filter.action) query = query.where('action', '=', filter.action);
  if (filter.actorId) query = query.where('actor_id', '=', filter.actorId);
  if (filter.actorLabel) query = query.where('actor_label', '=', filter.actorLabel);
  if (filter.targetType) query = query.where('target_type', '=', filter.targetType);
  if (filter.targetId) query = query.where('target_id', '=', filter.targetId);
  if (filter.beforeId !== undefined) query = query.where('id', '<', filter.beforeId);
  return query.execute();
}

/**
 * Writes an entry at most once per `dedupeKey`, on every instance at once: the unique index
 * on `audit_log.dedupe_key` (migration 011) decides, and a second writer's row is ignored.
 * Returns whether this call wrote it.
 */
export async function writeAuditOnce(db: Kysely<Database>, dedupeKey: string, entry: AuditEntry): Promise<boolean> {
  const result = await db
    .insertInto('audit_log')
    .values({
      at: entry.at,
      actor_id: entry.actorId,
      actor_label: entry.actorLabel,
      action: entry.action,
      target_type: entry.targetType ?? null,
      target_id: entry.targetId ?? null,
      details: entry.details ? JSON.stringify(entry.details) : null,
      client_ip: entry.clientIp ?? null,
      dedupe_key: dedupeKey,
    })
    // NOTE: the index is partial, so the conflict target repeats its predicate (both dialects).
    .onConflict((oc) => oc.column('dedupe_key').where('dedupe_key', 'is not', null).doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
}
