import { inGroups } from './criteria';
import type { CompiledPolicy, MfaStatus, UserState } from './types';

/**
 * Issue 18 part 6: grace days when someone newly enters a require-MFA policy's scope (R-D16).
 *
 * "Scope" here is R-C2 alone (All Users or an included group, minus the excluded groups)
 * and the user being active: that is what joining a group or being activated changes.
 * Resources and request conditions (R-C3, R-C4) are not part of it: they vary per request,
 * and a window only softens the policy where it matches anyway.
 *
 * Pure: the admin services (lib/admin/grace-windows.ts) ask it who enters, then write.
 */

export const minGraceDays = 0;
/** The same bound as an individual enrollment period (R-B2): longer grace would be a policy that forces nothing. */
export const maxGraceDays = 365;
const oneDayMs = 86_400_000;

/** Only ON require-MFA policies with grace can give any; the rest never record a window. */
export function givesGrace(p: CompiledPolicy): boolean {
  return p.enabled && p.action === 'require_mfa' && p.graceDays > 0;
}

/** R-C2 for an active user: All Users or an included group, and no excluded group. */
export function coversUser(p: CompiledPolicy, active: boolean, groups: ReadonlySet<string>): boolean {
  if (!active) return false;
  if (inGroups(p.excludeGroupList, p.excludeGroups, groups, false)) return false;
  return p.allUsers || inGroups(p.includeGroupList, p.includeGroups, groups, false);
}

export interface ScopeSide {
  active: boolean;
  groups: ReadonlySet<string>;
}

/**
 * The policies with grace that cover the user after a change and did not before it: one
 * person's activation, creation or group change. Everyone else (already covered, or not
 * covered now) gets nothing, so no edit of a policy can hand out grace.
 */
export function policiesEntered(policies: readonly CompiledPolicy[], before: ScopeSide, after: ScopeSide): CompiledPolicy[] {
  return policies.filter((p) => givesGrace(p) && coversUser(p, after.active, after.groups) && !coversUser(p, before.active, before.groups));
}

/**
 * Who newly enters policy `p` when some active users join or leave group `groupId`, as a
 * predicate on the groups those users are in AFTER the change, for a set-based statement
 * over many users at once (bulk membership). Null: this change brings nobody into `p`.
 *
 * - Joining an included group: newly covered unless excluded, or covered before through
 *   another included group (or All Users, which makes the join change nothing).
 * - Leaving an excluded group: newly covered if covered now (All Users or an included
 *   group that is not this one) and in no other excluded group.
 */
export interface EntryPredicate {
  /** 'all': every user qualifies on this side; otherwise the user must be in one of these groups. */
  anyOf: 'all' | readonly string[];
  /** …and in none of these. */
  noneOf: readonly string[];
}

export function entryOnMembershipChange(p: CompiledPolicy, groupId: string, direction: 'joined' | 'left'): EntryPredicate | null {
  if (!givesGrace(p)) return null;
  if (direction === 'joined') {
    if (p.allUsers || !p.includeGroups.has(groupId) || p.excludeGroups.has(groupId)) return null;
    const otherIncluded = p.includeGroupList.filter((g) => g !== groupId);
    return { anyOf: 'all', noneOf: [...new Set([...p.excludeGroupList, ...otherIncluded])] };
  }
  if (!p.excludeGroups.has(groupId)) return null;
  const included = p.allUsers ? 'all' : p.includeGroupList.filter((g) => g !== groupId);
  if (included !== 'all' && included.length === 0) return null;
  return { anyOf: included, noneOf: p.excludeGroupList.filter((g) => g !== groupId) };
}

/** Whether an EntryPredicate holds for a user in these groups (the pure twin of the SQL, for tests and single users). */
export function entryHolds(predicate: EntryPredicate, groups: ReadonlySet<string>): boolean {
  if (predicate.noneOf.some((g) => groups.has(g))) return false;
  return predicate.anyOf === 'all' || predicate.anyOf.some((g) => groups.has(g));
}

export interface GraceWindow {
  startsAt: number;
  endsAt: number;
}

export function graceWindow(now: number, days: number): GraceWindow {
  return { startsAt: now, endsAt: now + days * oneDayMs };
}

/** R-D16: the end of this user's running window under `policyId`, or null (none, or it ended). */
export function runningGraceEnd(windows: ReadonlyMap<string, number> | null | undefined, policyId: string, now: number): number | null {
  if (!windows) return null;
  const endsAt = windows.get(policyId);
  return endsAt !== undefined && now < endsAt ? endsAt : null;
}

/**
 * A stored grace as compile() keeps it. NOTE: fail closed on a damaged row: anything but a
 * finite number is no grace (the stricter reading), and a number is clamped into 0 … 365.
 */
export function graceDaysOf(raw: unknown): number {
  if (typeof raw !== 'number' || !Number.isFinite(raw)) return 0;
  return Math.min(maxGraceDays, Math.max(minGraceDays, Math.floor(raw)));
}

/**
 * R-F1 with grace windows: an active user without a factor, in a running policy grace
 * window, is "in enrollment period" with the window's dates, exactly as an individual
 * period shows. A running individual period keeps its own dates; every other status
 * (enrolled, pre-enrollment, a suspended user) is unchanged.
 */
export function statusWithGrace(
  status: MfaStatus,
  grace: { startsAt: number; endsAt: number } | null,
  user: { state: UserState; enrolled: boolean },
): MfaStatus {
  if (grace === null || user.enrolled || user.state !== 'active' || status.status === 'enrollment_period') return status;
  return { status: 'enrollment_period', startsAt: grace.startsAt, endsAt: grace.endsAt };
}
