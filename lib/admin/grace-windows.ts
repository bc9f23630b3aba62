import type { Kysely } from 'kysely';
import type { Database } from '../../db';
import { insertOutboxRows, recipientsOf } from '../../db/queries/mail';
import { groupIdsOfUser } from '../../db/queries/groups';
import { loadPolicyRecords } from '../../db/queries/policies';
import { enrolledAmong, openGraceWindows } from '../../db/queries/policy-grace';
import { loadCountingFactorTypes } from '../factors/counting';
import { displayName, idempotencyKeys, outboxRow, skipReasons } from '../mail/enqueue';
import type { MailMessage } from '../mail/templates';
import { compilePolicies, type CompiledPolicy } from '../policy';
import { entryOnMembershipChange, givesGrace, graceWindow, policiesEntered, type GraceWindow } from '../policy/grace';

/**
 * Issue 18 part 6: opens grace windows in the transaction of the change that brought people
 * into a require-MFA policy's scope (group membership, activation, creation), and queues
 * each new window's "enrollment period started" message in the same transaction, with the
 * same template, key and skip rules as an individual requirement's (R-B5, R-B6).
 * Who enters is lib/policy/grace.ts's answer; this module only reads and writes.
 *
 * NOTE: nothing here runs on a policy edit: creating a policy, switching it ON, raising its
 * grace or adding a group to it gives nobody grace (the issue: only people who newly fall
 * under it by their own change).
 */

export interface GraceOpened {
  policyId: string;
  policyName: string;
  userIds: string[];
  window: GraceWindow;
}

/** The policies that can give grace at all; most installs have none, and then nothing else is read. */
async function gracePolicies(trx: Kysely<Database>): Promise<CompiledPolicy[]> {
  // Policies are few, and a compile failure here must fail the change (closed), not skip grace silently.
  return compilePolicies(await loadPolicyRecords(trx)).filter(givesGrace);
}

/**
 * Group `groupId`'s members changed: `joined` and `left` are the user ids that joined and
 * left it. One set-based statement per affected policy and direction, however many users.
 */
export async function openGraceOnMembershipChange(
  trx: Kysely<Database>,
  groupId: string,
  joined: readonly string[],
  left: readonly string[],
  now: number,
): Promise<GraceOpened[]> {
  if (joined.length === 0 && left.length === 0) return [];
  const opened: GraceOpened[] = [];
  for (const p of await gracePolicies(trx)) {
    const window = graceWindow(now, p.graceDays);
    const userIds: string[] = [];
    for (const [direction, ids] of [['joined', joined], ['left', left]] as const) {
      const predicate = entryOnMembershipChange(p, groupId, direction);
      if (predicate !== null && ids.length > 0) userIds.push(...(await openGraceWindows(trx, p.id, ids, predicate, window)));
    }
    if (userIds.length > 0) opened.push({ policyId: p.id, policyName: p.name, userIds, window });
  }
  await queueStartedMessages(trx, opened, now);
  return opened;
}

/**
 * One user became active (activation of a staged user, or created active): every policy
 * with grace that covers them now. Before the change they were covered by none, since
 * only active users are in scope.
 */
export async function openGraceOnActivation(trx: Kysely<Database>, userId: string, now: number): Promise<GraceOpened[]> {
  const policies = await gracePolicies(trx);
  if (policies.length === 0) return [];
  const groups = new Set(await groupIdsOfUser(trx, userId));
  const entered = policiesEntered(policies, { active: false, groups }, { active: true, groups });
  const opened: GraceOpened[] = [];
  for (const p of entered) {
    const window = graceWindow(now, p.graceDays);
    const ids = await openGraceWindows(trx, p.id, [userId], { anyOf: 'all', noneOf: [] }, window);
    if (ids.length > 0) opened.push({ policyId: p.id, policyName: p.name, userIds: ids, window });
  }
  await queueStartedMessages(trx, opened, now);
  return opened;
}

/** The audit entry's summary of what opened: per policy, how many and until when. */
export function graceAuditDetails(opened: readonly GraceOpened[]): Record<string, unknown> {
  if (opened.length === 0) return {};
  return { graceStarted: opened.map((o) => ({ policyId: o.policyId, policy: o.policyName, users: o.userIds.length, endsAt: o.window.endsAt })) };
}

/**
 * R-B5 for grace: one "period started" message per new window. A user with two new windows
 * at the same instant gets one (the key is user and start). Recorded as skipped for a user
 * without an address or already enrolled (R-B6), as start-notices.ts does.
 */
async function queueStartedMessages(trx: Kysely<Database>, opened: readonly GraceOpened[], now: number): Promise<void> {
  const allIds = [...new Set(opened.flatMap((o) => o.userIds))];
  if (allIds.length === 0) return;
  const counting = await loadCountingFactorTypes(trx);
  const [recipients, enrolled] = await Promise.all([recipientsOf(trx, allIds), enrolledAmong(trx, allIds, counting)]);
  const rows = [];
  for (const o of opened) {
    const days = Math.round((o.window.endsAt - o.window.startsAt) / 86_400_000);
    for (const userId of o.userIds) {
      const r = recipients.get(userId);
      if (!r) continue;
      const message: MailMessage = {
        kind: 'enrollment_started',
        params: { name: displayName(r), enrollmentDays: days, periodStartsAt: o.window.startsAt, periodEndsAt: o.window.endsAt, reason: 'policy' },
      };
      const skip = enrolled.has(userId) ? skipReasons.enrolled : r.email ? null : skipReasons.noAddress;
      rows.push(outboxRow({ userId, key: idempotencyKeys.enrollmentStarted(userId, o.window.startsAt), to: r.email, at: now, skip, message }));
    }
  }
  await insertOutboxRows(trx, rows);
}
