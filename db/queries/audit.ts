import { sql, type Kysely, type SelectQueryBuilder } from 'kysely';
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
    /** Epoch ms, inclusive. */
    atFrom?: number;
    /** Epoch ms, exclusive. */
    atBefore?: number;
    beforeId?: number;
    limit: number;
  },
) {
  let query = db.selectFrom('audit_log').selectAll().orderBy('id', 'desc').limit(filter.limit);
  if (filter.atFrom !== undefined) query = query.where('at', '>=', filter.atFrom);
  if (filter.atBefore !== undefined) query = query.where('at', '<', filter.atBefore);
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

export type AuditSubjectKind = 'user' | 'policy' | 'group' | 'api_key';

export interface AuditSubjectName {
  kind: AuditSubjectKind;
  id: string;
  /** A user's display name, or null; a policy's, group's or key's name. */
  name: string | null;
  /** A user's username; null for the other kinds. */
  username: string | null;
}

/**
 * The names behind a page of audit entries' ids, in one statement whatever the page holds
 * (a union over users, policies, groups and API keys). Deleted subjects are simply absent.
 */
export async function auditSubjectNames(
  db: Kysely<Database>,
  ids: Readonly<Record<AuditSubjectKind, readonly string[]>>,
): Promise<AuditSubjectName[]> {
  type Row = { id: string; name: string | null; username: string | null; kind: string };
  // NOTE: the four selects differ only in their tables; one row type lets them be unioned.
  type Part = SelectQueryBuilder<Database, keyof Database, Row>;
  const parts: Part[] = [];
  const kind = (k: AuditSubjectKind) => sql<string>`${sql.lit(k)}`.as('kind');
  const noUsername = sql<string | null>`null`.as('username');
  if (ids.user.length > 0)
    parts.push(db.selectFrom('users').select(['id', 'display_name as name', 'username', kind('user')]).where('id', 'in', [...ids.user]) as unknown as Part);
  if (ids.policy.length > 0)
    parts.push(db.selectFrom('policies').select(['id', 'name', noUsername, kind('policy')]).where('id', 'in', [...ids.policy]) as unknown as Part);
  if (ids.group.length > 0)
    parts.push(db.selectFrom('groups').select(['id', 'name', noUsername, kind('group')]).where('id', 'in', [...ids.group]) as unknown as Part);
  if (ids.api_key.length > 0)
    parts.push(db.selectFrom('api_keys').select(['id', 'name', noUsername, kind('api_key')]).where('id', 'in', [...ids.api_key]) as unknown as Part);
  const [first, ...rest] = parts;
  if (!first) return [];
  const rows = await rest.reduce((query, next) => query.unionAll(next), first).execute();
  return rows.map((r) => ({ kind: r.kind as AuditSubjectKind, id: r.id, name: r.name, username: r.username }));
}

/**
 * The newest entry among those written once under one of `dedupeKeys` (a session's denials,
 * one key per resource): found through the unique dedupe_key index, never a text scan.
 */
export async function latestEntryOfKeys(db: Kysely<Database>, dedupeKeys: readonly string[]) {
  if (dedupeKeys.length === 0) return undefined;
  const row = await db
    .selectFrom('audit_log')
    .select(['id', 'at', 'target_id'])
    .where('dedupe_key', 'in', [...dedupeKeys])
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row ? { id: Number(row.id), at: Number(row.at), targetId: row.target_id } : undefined;
}
