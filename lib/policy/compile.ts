import { parseCidr } from './cidr';
import { rememberDaysOf } from './remember';
import { maxReverifyMinutes, minReverifyMinutes } from './strength';
import { graceDaysOf } from './grace';
import type { BrowserFamily, CompiledPolicy, OsFamily, ParsedCidr, PolicyAction, PolicyRecord } from './types';

/**
 * Turns stored policies into the shape decide() reads: CIDRs parsed once, lists as Sets.
 * Run it when policies load or change, never per request.
 */

// NOTE: an action this build does not know (a newer row, a typo in SQL) becomes deny,
// as in Authelia: failing closed beats guessing.
function actionOf(raw: unknown): PolicyAction {
  return raw === 'allow' || raw === 'require_mfa' || raw === 'deny' ? raw : 'deny';
}

function listOf<T>(raw: readonly T[] | null | undefined): readonly T[] {
  return Array.isArray(raw) ? raw : [];
}

function cidrsOf(raw: readonly string[] | undefined): readonly ParsedCidr[] | null {
  const list = listOf(raw);
  // An empty list is the same as no condition ("no networks means any network").
  return list.length === 0 ? null : list.map(parseCidr);
}

function setOrNull<T>(raw: readonly T[] | undefined): ReadonlySet<T> | null {
  const list = listOf(raw);
  return list.length === 0 ? null : new Set(list);
}

function priorityOf(raw: unknown): number {
  return typeof raw === 'number' && Number.isFinite(raw) ? raw : Number.POSITIVE_INFINITY;
}

/**
 * NOTE: fail closed on a damaged row: an unknown strength becomes phishing-resistant (the
 * stricter reading) and an out-of-range N is clamped into 5 min … 30 days, never dropped.
 */
function strengthOf(record: PolicyRecord): boolean {
  const raw: unknown = record.strength;
  return raw !== undefined && raw !== null && raw !== 'any';
}

function reverifyMsOf(record: PolicyRecord): number | null {
  const raw: unknown = record.reverifyMinutes;
  if (raw === undefined || raw === null) return null;
  const n = typeof raw === 'number' && Number.isFinite(raw) ? Math.floor(raw) : minReverifyMinutes;
  return Math.min(maxReverifyMinutes, Math.max(minReverifyMinutes, n)) * 60_000;
}

export function compilePolicy(record: PolicyRecord): CompiledPolicy {
  const label = `Policy ${JSON.stringify(record.name)} (${record.id})`;
  if (record.scope !== 'all' && record.scope !== 'groups') {
    // Guessing either way would widen or narrow who the policy covers; refuse instead.
    throw new Error(`${label}: unknown scope ${JSON.stringify(record.scope)}.`);
  }
  const conditions = record.conditions ?? {};
  let ipIn: readonly ParsedCidr[] | null;
  let ipNotIn: readonly ParsedCidr[] | null;
  try {
    ipIn = cidrsOf(conditions.ipIn);
    ipNotIn = cidrsOf(conditions.ipNotIn);
  } catch (cause) {
    throw new Error(`${label}: ${(cause as Error).message}`, { cause });
  }
  const includeGroupList = [...listOf(record.includeGroupIds)];
  const action = actionOf(record.action);
  const requireMfa = action === 'require_mfa';
  const excludeGroupList = [...listOf(record.excludeGroupIds)];
  return {
    id: record.id,
    name: record.name,
    enabled: record.enabled === true,
    action,
    priority: priorityOf(record.priority),
    allUsers: record.scope === 'all',
    includeGroups: new Set(includeGroupList),
    includeGroupList,
    excludeGroups: new Set(excludeGroupList),
    excludeGroupList,
    resources: new Set(listOf(record.resources)),
    ipIn,
    ipNotIn,
    osIn: setOrNull<OsFamily>(conditions.osIn),
    browserIn: setOrNull<BrowserFamily>(conditions.browserIn),
    phishingResistant: requireMfa && strengthOf(record),
    reverifyMs: requireMfa ? reverifyMsOf(record) : null,
    rememberDays: requireMfa ? rememberDaysOf(record.rememberDays) : null,
    graceDays: requireMfa ? graceDaysOf(record.graceDays) : 0,
    ref: Object.freeze({ id: record.id, name: record.name }),
  };
}

/** Throws a clear Error on an invalid CIDR or scope; the caller must then fail closed (R-D10). */
export function compilePolicies(records: readonly PolicyRecord[]): CompiledPolicy[] {
  return records.map(compilePolicy);
}
