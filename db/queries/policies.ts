import type { Kysely, Selectable } from 'kysely';
import type { Database, PoliciesTable } from '../schema';
import type { PolicyConditions, PolicyRecord } from '../../lib/policy/types';

/** Conditional access policies (R-C1..R-C5), stored with JSON text lists. */

export type PolicyRow = Selectable<PoliciesTable>;

function jsonOr<T>(text: string | null, fallback: T): T {
  if (text === null || text === '') return fallback;
  return JSON.parse(text) as T;
}

export function policyRecordOf(row: PolicyRow): PolicyRecord {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    enabled: row.enabled === 1,
    scope: row.scope,
    includeGroupIds: jsonOr<string[]>(row.include_group_ids, []),
    excludeGroupIds: jsonOr<string[]>(row.exclude_group_ids, []),
    conditions: jsonOr<PolicyConditions>(row.conditions, {}),
    resources: jsonOr<string[]>(row.resources, []),
    action: row.action,
    priority: Number(row.priority),
    strength: row.strength,
    reverifyMinutes: row.reverify_minutes === null ? null : Number(row.reverify_minutes),
    rememberDays: row.remember_days === null ? null : Number(row.remember_days),
    graceDays: Number(row.grace_days ?? 0),
  };
}

/** Column values for a record; `name_lower` keeps names unique case-insensitively. */
function columnsOf(record: PolicyRecord) {
  return {
    name: record.name,
    name_lower: record.name.toLowerCase(),
    description: record.description,
    enabled: record.enabled ? 1 : 0,
    scope: record.scope,
    include_group_ids: JSON.stringify(record.includeGroupIds),
    exclude_group_ids: JSON.stringify(record.excludeGroupIds),
    conditions: JSON.stringify(record.conditions),
    resources: JSON.stringify(record.resources),
    action: record.action,
    priority: record.priority ?? 0,
    // Only a require-MFA policy asks anything of the second factor; others store the neutral values.
    strength: record.action === 'require_mfa' ? (record.strength ?? 'any') : 'any',
    reverify_minutes: record.action === 'require_mfa' ? (record.reverifyMinutes ?? null) : null,
    remember_days: record.action === 'require_mfa' ? (record.rememberDays ?? null) : null,
    grace_days: record.action === 'require_mfa' ? (record.graceDays ?? 0) : 0,
  };
}

/**
 * Every policy, enabled or not, as the engine reads them; the gate compiles the result
 * with compilePolicies() whenever the config version moves. A damaged JSON column throws,
 * so the caller fails closed.
 */
export async function loadPolicyRecords(db: Kysely<Database>): Promise<PolicyRecord[]> {
  const rows = await db.selectFrom('policies').selectAll().orderBy('priority').orderBy('name_lower').execute();
  return rows.map(policyRecordOf);
}

export async function getPolicyById(db: Kysely<Database>, id: string): Promise<PolicyRecord | undefined> {
  const row = await db.selectFrom('policies').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? policyRecordOf(row) : undefined;
}

/** The id of the policy with this name (case-insensitive), if any. */
export async function findPolicyIdByName(db: Kysely<Database>, name: string): Promise<string | undefined> {
  const row = await db.selectFrom('policies').select('id').where('name_lower', '=', name.toLowerCase()).executeTakeFirst();
  return row?.id;
}

export async function insertPolicy(db: Kysely<Database>, record: PolicyRecord, now: number): Promise<void> {
  await db
    .insertInto('policies')
    .values({ id: record.id, ...columnsOf(record), created_at: now, updated_at: now })
    .execute();
}

export async function updatePolicyRow(db: Kysely<Database>, record: PolicyRecord, now: number): Promise<boolean> {
  const result = await db
    .updateTable('policies')
    .set({ ...columnsOf(record), updated_at: now })
    .where('id', '=', record.id)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

export async function setPolicyEnabledRow(db: Kysely<Database>, id: string, enabled: boolean, now: number): Promise<boolean> {
  const result = await db
    .updateTable('policies')
    .set({ enabled: enabled ? 1 : 0, updated_at: now })
    .where('id', '=', id)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

export async function deletePolicyRow(db: Kysely<Database>, id: string): Promise<boolean> {
  const result = await db.deleteFrom('policies').where('id', '=', id).executeTakeFirst();
  return result.numDeletedRows > 0n;
}

/** Policies whose include or exclude list names this group. */
export async function policiesReferencingGroup(db: Kysely<Database>, groupId: string): Promise<PolicyRecord[]> {
  // NOTE: policies are few and group deletions rare; parsing every list beats a LIKE whose
  // escaping differs between the dialects.
  const all = await loadPolicyRecords(db);
  return all.filter((p) => p.includeGroupIds.includes(groupId) || p.excludeGroupIds.includes(groupId));
}

