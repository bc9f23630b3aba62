import { z } from 'zod';
import type { Kysely } from 'kysely';
import type { Database } from '../../db';
import type { UserState } from '../../db/schema';
import { writeAudit } from '../../db/queries/audit';
import { getMfaRequirement, setRequirementPeriod } from '../../db/queries/mfa';
import { deleteSessionsOfUser } from '../../db/queries/sessions';
import { voidOpenAccountTokens } from '../../db/queries/account-tokens';
import { getUserById, setUserState as setUserStateRow } from '../../db/queries/users';
import { enrollmentPeriod } from '../policy';
import type { Clock } from '../clock';
import type { Actor } from './actor';
import { NotFoundError, ValidationError } from './errors';
import { invalidateUserCounts } from './user-directory';
import { startInvitations } from './invitations';
import { graceAuditDetails, openGraceOnActivation, type GraceOpened } from './grace-windows';

/** User lifecycle: staged → active ⇄ suspended (R-B4, R-D7). */

const stateMessage = 'State must be staged, active or suspended.';
export const stateSchema = z.enum(['staged', 'active', 'suspended'], stateMessage);

export interface UserStateResult {
  changed: boolean;
  previous: UserState;
  state: UserState;
  /**
   * R-B4: the enrollment period that began because a pre-enrollment user became active;
   * the caller emails the user about it (R-B5).
   */
  periodStarted: { startsAt: number; endsAt: number } | null;
  /** Sessions ended because the user was suspended. */
  sessionsRevoked: number;
  /** A staged user's invitation that activation sent: when its link expires; else null. */
  invitationExpiresAt: number | null;
}

/**
 * Changes a user's state. Becoming active starts a pending enrollment period (a
 * requirement set while staged) for its stored number of days; suspension ends every
 * session of the user at once. A user who was ever active cannot go back to staged.
 * Setting the current state again changes nothing and is not audited.
 */
export async function setUserState(
  db: Kysely<Database>,
  userId: string,
  state: unknown,
  actor: Actor,
  clock: Clock,
): Promise<UserStateResult> {
  const parsed = stateSchema.safeParse(state);
  if (!parsed.success) throw new ValidationError({ state: [stateMessage] });
  const result = await db.transaction().execute((trx) => changeUserState(trx, userId, parsed.data, actor, clock.now()));
  if (result.changed) invalidateUserCounts(db);
  return result;
}

/**
 * setUserState()'s change, inside the caller's transaction (`next` already validated);
 * the caller marks the user counts stale once it commits.
 */
export async function changeUserState(
  trx: Kysely<Database>,
  userId: string,
  next: UserState,
  actor: Actor,
  now: number,
): Promise<UserStateResult> {
  const user = await getUserById(trx, userId);
  if (!user) throw new NotFoundError('user', [userId]);
  if (user.state === next) {
    return { changed: false, previous: user.state, state: next, periodStarted: null, sessionsRevoked: 0, invitationExpiresAt: null };
  }
  if (next === 'staged' && user.activated_at !== null) {
    throw new ValidationError({ state: ['A user who has been active cannot go back to staged.'] });
  }
  await setUserStateRow(trx, userId, next, now);

  let periodStarted: UserStateResult['periodStarted'] = null;
  let invitationExpiresAt: number | null = null;
  let grace: GraceOpened[] = [];
  if (next === 'active') {
    // A staged user's invitation goes out now, valid from now.
    invitationExpiresAt = await startInvitations(trx, userId, now);
    const requirement = await getMfaRequirement(trx, userId);
    // A requirement set while staged has no period yet; one that already runs (a
    // suspended user coming back) keeps its dates.
    if (requirement?.required && requirement.periodStartsAt === null) {
      periodStarted = enrollmentPeriod(now, requirement.enrollmentDays);
      // R-B4, R-B5: the period's message is marked in the same update; the mail worker queues it.
      await setRequirementPeriod(trx, userId, periodStarted);
    }
    // Issue 18 part 6: a staged user activated newly falls under every policy that covers
    // them. A user who was active before (a suspended one coming back) gets no new grace.
    if (user.activated_at === null) grace = await openGraceOnActivation(trx, userId, now);
  }
  const sessionsRevoked = next === 'suspended' ? await deleteSessionsOfUser(trx, userId) : 0;
  // A suspension also voids open invitation and reset links: coming back later must not
  // revive a link mailed before it. The admin sends a new one after reactivation.
  const linksVoided = next === 'suspended' ? await voidOpenAccountTokens(trx, userId, 'all', now) : 0;

  await writeAudit(trx, {
    at: now,
    actorId: actor.id,
    actorLabel: actor.label,
    action: 'user.state_changed',
    targetType: 'user',
    targetId: userId,
    details: {
      from: user.state,
      to: next,
      ...(periodStarted ? { periodStartsAt: periodStarted.startsAt, periodEndsAt: periodStarted.endsAt } : {}),
      ...(next === 'suspended' ? { sessionsRevoked, ...(linksVoided > 0 ? { linksVoided } : {}) } : {}),
      ...(invitationExpiresAt !== null ? { invitationSent: true, invitationExpiresAt } : {}),
      ...graceAuditDetails(grace),
    },
    clientIp: actor.clientIp,
  });
  return { changed: true, previous: user.state, state: next, periodStarted, sessionsRevoked, invitationExpiresAt };
}

/** Activates a staged or suspended user; see setUserState(). */
export async function activateUser(db: Kysely<Database>, userId: string, actor: Actor, clock: Clock): Promise<UserStateResult> {
  return setUserState(db, userId, 'active', actor, clock);
}
