import { z } from 'zod';
import type { Kysely } from 'kysely';
import type { Database } from '../../db';
import { getMfaRequirement } from '../../db/queries/mfa';
import { getUserById } from '../../db/queries/users';
import { defaultEnrollmentDays } from '../policy';
import type { Clock } from '../clock';
import type { Actor } from './actor';
import { NotFoundError, parseInput } from './errors';
import { changeUserMfaRequirement, givenEnrollmentDaysSchema, type RequirementResult } from './mfa-requirements';
import { invalidateUserCounts } from './user-directory';
import { changeUserProfile, userProfileSchema } from './user-profile';
import { changeUserState, stateSchema, type UserStateResult } from './user-state';

/**
 * "Save changes" on a user's page and PATCH /users/{id}: state, the R-B1 requirement and
 * the profile in one transaction, each audited as its own change.
 */

const unknownField = (issue: { code: string; keys?: string[] }) =>
  issue.code === 'unrecognized_keys' ? `Unknown field: ${(issue.keys ?? []).join(', ')}.` : 'Expected an object.';

export const updateUserSchema = z.strictObject(
  {
    state: stateSchema.optional(),
    email: userProfileSchema.shape.email,
    displayName: userProfileSchema.shape.displayName,
    mfa: z
      .strictObject(
        {
          required: z.boolean('Say whether MFA is required: true or false.'),
          // Left out: keep the current days when the requirement stays.
          enrollmentDays: givenEnrollmentDaysSchema.optional(),
        },
        { error: unknownField },
      )
      .optional(),
  },
  { error: unknownField },
);

export type UserUpdate = z.input<typeof updateUserSchema>;

export interface UserUpdateResult {
  /** Null when no state was given. */
  state: UserStateResult | null;
  /** Null when the requirement was not given or already was as asked. */
  requirement: RequirementResult | null;
  /** The profile fields whose values changed. */
  profileChanged: string[];
}

/**
 * Applies the fields given; fields left out keep their values. The whole input is checked
 * before anything is written, and the state goes first: it is the one change a rule can
 * refuse (never back to staged), and a refusal rolls back everything else.
 *
 * NOTE: requiring again restarts the period, so a requirement equal to the current one
 * (same days, or days left out) changes nothing; a new period is resetTotpEnrollment().
 *
 * @throws ValidationError, NotFoundError('user')
 * @example await updateUser(db, user.id, { state: 'active', mfa: { required: true, enrollmentDays: 14 } }, actor, clock)
 */
export async function updateUser(
  db: Kysely<Database>,
  userId: string,
  input: unknown,
  actor: Actor,
  clock: Clock,
): Promise<UserUpdateResult> {
  const update = parseInput(updateUserSchema, input);
  const now = clock.now();
  const result = await db.transaction().execute(async (trx): Promise<UserUpdateResult> => {
    if (!(await getUserById(trx, userId))) throw new NotFoundError('user', [String(userId).slice(0, 200)]);
    const current = await getMfaRequirement(trx, userId);
    const state = update.state === undefined ? null : await changeUserState(trx, userId, update.state, actor, now);

    let requirement: RequirementResult | null = null;
    const mfa = update.mfa;
    if (mfa !== undefined) {
      const required = current?.required ?? false;
      const unchanged =
        mfa.required === required && (!mfa.required || mfa.enrollmentDays === undefined || mfa.enrollmentDays === current?.enrollmentDays);
      if (!unchanged) {
        const days = mfa.enrollmentDays ?? defaultEnrollmentDays;
        requirement = await changeUserMfaRequirement(trx, userId, { required: mfa.required, enrollmentDays: days }, actor, now);
      }
    }

    const profile = { email: update.email, displayName: update.displayName };
    const profileChanged =
      profile.email === undefined && profile.displayName === undefined
        ? []
        : (await changeUserProfile(trx, userId, profile, actor, now)).changed;
    return { state, requirement, profileChanged };
  });
  if (result.state?.changed || result.requirement) invalidateUserCounts(db);
  return result;
}
