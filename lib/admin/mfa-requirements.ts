import { forgetAllDevices } from '../auth/remembered-devices';
import { z } from 'zod';
import type { Kysely } from 'kysely';
import type { Database } from '../../db';
import { writeAudit } from '../../db/queries/audit';
import {
  deleteRequirement,
  deleteRequirements,
  deleteTotpFactorsOfUser,
  findUnknownUserIds,
  getMfaRequirement,
  insertRequirementAudit,
  insertUserAudit,
  upsertRequirements,
} from '../../db/queries/mfa';
import { getUserById } from '../../db/queries/users';
import { factorTypesOfUser } from '../../db/queries/factors';
import { deleteRecoveryCodes } from '../../db/queries/recovery-codes';
import { defaultEnrollmentDays, enrollmentPeriod, isValidEnrollmentDays, maxEnrollmentDays, minEnrollmentDays } from '../policy';
import type { Clock } from '../clock';
import { formatDateTime } from '../format';
import type { Actor } from './actor';
import { NotFoundError, parseInput } from './errors';
import { enqueueFactorNotice } from '../mail/enqueue';
import { invalidateUserCounts } from './user-directory';

/** Requiring MFA for individual users (R-B1, R-B2, R-B4) and resetting TOTP (R-F4). */

export const maxUsersPerBulkChange = 10_000;

export const enrollmentDaysMessage = `Enrollment period must be a whole number of days from ${minEnrollmentDays} to ${maxEnrollmentDays}.`;

/**
 * R-B2: whole numbers 1–365. JSON numbers only: "7" from a form is the caller's to convert,
 * so "seven", "7.5" and "" can never slip through a coercion.
 */
export const givenEnrollmentDaysSchema = z.custom<number>((value) => isValidEnrollmentDays(value), enrollmentDaysMessage);

/** The days of a new period: 7 when left out (R-B2). */
export const enrollmentDaysSchema = givenEnrollmentDaysSchema.default(defaultEnrollmentDays);

/** A list of distinct user ids, at most 10,000; `min` 1 for changes that need someone to change. */
export function userIdList(min: 0 | 1) {
  return z
    .array(z.string('Each user id must be text.').min(1, 'A user id cannot be empty.').max(200, 'A user id is at most 200 characters.'), {
      error: (issue) => (issue.input === undefined ? 'Select at least one user.' : 'userIds must be a list of user ids.'),
    })
    .min(min, 'Select at least one user.')
    .max(maxUsersPerBulkChange, `At most ${maxUsersPerBulkChange.toLocaleString('en-US')} users can be changed at once.`)
    .superRefine((ids, ctx) => {
      const seen = new Set<string>();
      const repeated = new Set<string>();
      for (const id of ids) (seen.has(id) ? repeated : seen).add(id);
      if (repeated.size > 0) {
        ctx.addIssue({ code: 'custom', message: `Each user may be listed once; repeated: ${[...repeated].slice(0, 10).join(', ')}.` });
      }
    });
}

const expectedObject = 'Expected an object.';

export const bulkRequireSchema = z.object({ userIds: userIdList(1), enrollmentDays: enrollmentDaysSchema }, expectedObject);

export const setRequirementSchema = z.object(
  {
    required: z.boolean('Say whether MFA is required: true or false.'),
    enrollmentDays: enrollmentDaysSchema,
  },
  expectedObject,
);

export const resetSchema = z.object({ enrollmentDays: enrollmentDaysSchema }, expectedObject);

export interface BulkRequireResult {
  updated: number;
  enrollmentDays: number;
  /** The period every non-staged user got, starting now. */
  periodStartsAt: number;
  periodEndsAt: number;
  /** Users whose period began now (active and suspended): the ones to email (R-B5). */
  periodStartedUserIds: string[];
  /** Staged users: pre-enrollment, their period starts on activation (R-B4). */
  preEnrollmentUserIds: string[];
}

/**
 * R-B2: requires MFA for the User Portal for many users at once, each with a fresh
 * enrollment period of `enrollmentDays` (default 7). All-or-nothing: one unknown id and
 * nothing is written. One transaction: one set-based statement writes the requirements
 * (and marks each started period for its R-B5 message, which the mail worker queues:
 * lib/mail/start-notices.ts), one more writes their audit entries.
 *
 * @throws ValidationError for bad days or ids, NotFoundError('user', unknownIds).
 * @example await requireMfaForUsers(db, { userIds: [ada.id, bob.id], enrollmentDays: 14 }, actor, clock)
 */
export async function requireMfaForUsers(
  db: Kysely<Database>,
  input: unknown,
  actor: Actor,
  clock: Clock,
): Promise<BulkRequireResult> {
  const { userIds, enrollmentDays } = parseInput(bulkRequireSchema, input);
  const result = await db.transaction().execute(async (trx) => {
    const now = clock.now();
    const period = enrollmentPeriod(now, enrollmentDays);
    const written = await upsertRequirements(trx, {
      // Sorted: the writes then walk each index in key order (db/queries/id-list.ts idTable).
      userIds: [...userIds].sort(),
      enrollmentDays,
      now,
      periodEndsAt: period.endsAt,
      setBy: actor.id,
      reason: 'required',
    });
    // An id that names no user wrote nothing: throwing rolls the rest back.
    if (written.length !== userIds.length) throw new NotFoundError('user', await findUnknownUserIds(trx, userIds));
    await insertRequirementAudit(trx, {
      written,
      at: now,
      actorId: actor.id,
      actorLabel: actor.label,
      clientIp: actor.clientIp,
      action: 'mfa.required',
      detailsActive: { enrollmentDays, periodStartsAt: period.startsAt, periodEndsAt: period.endsAt, bulk: true },
      detailsStaged: { enrollmentDays, periodStartsAt: null, periodEndsAt: null, preEnrollment: true, bulk: true },
    });

    const stagedIds = new Set(written.filter((w) => w.periodStartsAt === null).map((w) => w.userId));
    const periodStartedUserIds: string[] = [];
    const preEnrollmentUserIds: string[] = [];
    for (const id of userIds) (stagedIds.has(id) ? preEnrollmentUserIds : periodStartedUserIds).push(id);
    return {
      updated: written.length,
      enrollmentDays,
      periodStartsAt: period.startsAt,
      periodEndsAt: period.endsAt,
      periodStartedUserIds,
      preEnrollmentUserIds,
    };
  });
  invalidateUserCounts(db);
  return result;
}

export const bulkRemoveSchema = z.object({ userIds: userIdList(1) }, expectedObject);

export interface BulkRemoveResult {
  /** Users whose requirement was removed, in the order given. */
  removedUserIds: string[];
  /** Selected users who had no requirement: nothing changed for them. */
  unchangedUserIds: string[];
}

/**
 * "Remove MFA requirement" for the selected users: the counterpart of requireMfaForUsers().
 * All-or-nothing: one unknown id and nothing is written. One transaction: one set-based
 * delete, then one statement of audit entries (`mfa.requirement_cleared`, `bulk: true`), one
 * per user who had a requirement. A user MFA is still required of by a policy stays so.
 *
 * @throws ValidationError for bad ids, NotFoundError('user', unknownIds).
 * @example await removeMfaRequirementForUsers(db, { userIds: [ada.id, bob.id] }, actor, clock)
 */
export async function removeMfaRequirementForUsers(db: Kysely<Database>, input: unknown, actor: Actor, clock: Clock): Promise<BulkRemoveResult> {
  const { userIds } = parseInput(bulkRemoveSchema, input);
  const result = await db.transaction().execute(async (trx) => {
    // NOTE: write first (a SQLite transaction that reads first cannot wait for another
    // instance's write lock); an unknown id then throws, which rolls the delete back.
    const removed = new Set(await deleteRequirements(trx, [...userIds].sort()));
    const unknown = await findUnknownUserIds(trx, userIds);
    if (unknown.length > 0) throw new NotFoundError('user', unknown);
    const removedUserIds = userIds.filter((id) => removed.has(id));
    await insertUserAudit(trx, {
      userIds: removedUserIds,
      at: clock.now(),
      actorId: actor.id,
      actorLabel: actor.label,
      clientIp: actor.clientIp,
      action: 'mfa.requirement_cleared',
      details: { bulk: true },
    });
    return { removedUserIds, unchangedUserIds: userIds.filter((id) => !removed.has(id)) };
  });
  invalidateUserCounts(db);
  return result;
}

export interface RequirementResult {
  required: boolean;
  enrollmentDays: number | null;
  periodStartsAt: number | null;
  periodEndsAt: number | null;
  /** A period began with this change: the user should be emailed (R-B5). */
  periodStarted: boolean;
}

const notRequired: RequirementResult = {
  required: false,
  enrollmentDays: null,
  periodStartsAt: null,
  periodEndsAt: null,
  periodStarted: false,
};

/**
 * R-B1: the "Require Multi-factor Authentication for User Portal" box on a user's page.
 * `required: true` gives the user a fresh period (R-B4: pre-enrollment while staged);
 * `required: false` removes the requirement.
 *
 * NOTE: requiring again restarts the period; callers should only send a change.
 */
export async function setUserMfaRequirement(
  db: Kysely<Database>,
  userId: string,
  input: unknown,
  actor: Actor,
  clock: Clock,
): Promise<RequirementResult> {
  const requirement = parseInput(setRequirementSchema, input);
  const result = await db.transaction().execute((trx) => changeUserMfaRequirement(trx, userId, requirement, actor, clock.now()));
  invalidateUserCounts(db);
  return result;
}

/**
 * setUserMfaRequirement()'s change, inside the caller's transaction (input already
 * validated); the caller marks the user counts stale once it commits.
 */
export async function changeUserMfaRequirement(
  trx: Kysely<Database>,
  userId: string,
  { required, enrollmentDays }: { required: boolean; enrollmentDays: number },
  actor: Actor,
  now: number,
): Promise<RequirementResult> {
  const user = await getUserById(trx, userId);
  if (!user) throw new NotFoundError('user', [userId]);
  if (!required) {
    const had = await deleteRequirement(trx, userId);
    if (had) {
      await writeAudit(trx, {
        at: now,
        actorId: actor.id,
        actorLabel: actor.label,
        action: 'mfa.requirement_cleared',
        targetType: 'user',
        targetId: userId,
        clientIp: actor.clientIp,
      });
    }
    return notRequired;
  }
  const result = await requireOne(trx, userId, user.state === 'staged', enrollmentDays, actor, now, 'required');
  await writeAudit(trx, {
    at: now,
    actorId: actor.id,
    actorLabel: actor.label,
    action: 'mfa.required',
    targetType: 'user',
    targetId: userId,
    details: { enrollmentDays, periodStartsAt: result.periodStartsAt, periodEndsAt: result.periodEndsAt, ...(result.periodStarted ? {} : { preEnrollment: true }) },
    clientIp: actor.clientIp,
  });
  return result;
}

async function requireOne(
  trx: Kysely<Database>,
  userId: string,
  staged: boolean,
  enrollmentDays: number,
  actor: Actor,
  now: number,
  /** Marks the started period for its message (R-B5, R-F4), which the mail worker queues. */
  reason: 'required' | 'reset',
): Promise<RequirementResult> {
  const period = enrollmentPeriod(now, enrollmentDays);
  await upsertRequirements(trx, { userIds: [userId], enrollmentDays, now, periodEndsAt: period.endsAt, setBy: actor.id, reason });
  return {
    required: true,
    enrollmentDays,
    periodStartsAt: staged ? null : period.startsAt,
    periodEndsAt: staged ? null : period.endsAt,
    periodStarted: !staged,
  };
}

export interface TotpResetResult extends RequirementResult {
  removedFactors: number;
  /** The user had no MFA requirement before: the reset made one (with the period's days). */
  requirementCreated: boolean;
  /** No factor was left, so the recovery codes went too (as when an admin removes the last factor). */
  recoveryCodesRemoved: boolean;
}

/**
 * R-F4, extended to enrolled users: removes the user's TOTP devices and starts a new
 * enrollment period now (for a staged user, pre-enrollment again). For a user whose period
 * expired (R-D6), or who lost their authenticator. Other methods' factors are kept; with
 * none left, the recovery codes go too. A user without an MFA requirement gets one, with
 * `enrollmentDays` (7 by default): "a new enrollment period" means exactly that, so the
 * user is asked to set up an authenticator app again instead of silently losing MFA.
 *
 * One transaction: the removal, the requirement (marked for its "period started" message,
 * reason 'reset', which the mail worker queues: lib/mail/start-notices.ts), the audit entry
 * and the "a sign-in method was removed" notice commit together or not at all.
 */
export async function resetTotpEnrollment(
  db: Kysely<Database>,
  userId: string,
  input: unknown,
  actor: Actor,
  clock: Clock,
): Promise<TotpResetResult> {
  const { enrollmentDays } = parseInput(resetSchema, input ?? {});
  const reset = await db.transaction().execute(async (trx) => {
    const user = await getUserById(trx, userId);
    if (!user) throw new NotFoundError('user', [userId]);
    const now = clock.now();
    const previous = await getMfaRequirement(trx, userId);
    const removedFactors = await deleteTotpFactorsOfUser(trx, userId);
    const recoveryCodesRemoved = removedFactors > 0 && (await factorTypesOfUser(trx, userId)).length === 0;
    if (recoveryCodesRemoved) await deleteRecoveryCodes(trx, userId);
    const result = await requireOne(trx, userId, user.state === 'staged', enrollmentDays, actor, now, 'reset');
    const requirementCreated = previous === null || !previous.required;
    // Issue 18 part 3: an MFA reset forgets every remembered device.
    const forgottenDevices = await forgetAllDevices(trx, userId, now);
    await writeAudit(trx, {
      at: now,
      actorId: actor.id,
      actorLabel: actor.label,
      action: 'mfa.totp_reset',
      targetType: 'user',
      targetId: userId,
      details: {
        enrollmentDays,
        removedFactors,
        recoveryCodesRemoved,
        requirementCreated,
        periodStartsAt: result.periodStartsAt,
        periodEndsAt: result.periodEndsAt,
        previousPeriodEndsAt: previous?.periodEndsAt ?? null,
        forgottenDevices,
      },
      clientIp: actor.clientIp,
    });
    if (removedFactors > 0) await enqueueFactorNotice(trx, { userId, kind: 'factor_removed', factorType: 'totp', at: now });
    return { ...result, removedFactors, requirementCreated, recoveryCodesRemoved };
  });
  invalidateUserCounts(db);
  return reset;
}

/** What a reset did, in a sentence or three for people (the CLI, the console's notice). */
export function resetTotpSummary(username: string, result: TotpResetResult): string {
  const parts = [
    `TOTP reset for ${username}: ${result.removedFactors === 1 ? '1 authenticator app' : `${result.removedFactors} authenticator apps`} removed.`,
  ];
  if (result.recoveryCodesRemoved) parts.push('No sign-in method is left, so the recovery codes were removed too.');
  if (result.requirementCreated) parts.push('MFA was not required for this user; it is now.');
  parts.push(
    result.periodEndsAt !== null
      ? `A new ${result.enrollmentDays}-day enrollment period runs until ${formatDateTime(result.periodEndsAt)}; the user is emailed.`
      : `The user is staged: a ${result.enrollmentDays}-day enrollment period starts when they are activated.`,
  );
  return parts.join(' ');
}
