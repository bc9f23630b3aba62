import { z } from 'zod';
import type { Kysely } from 'kysely';
import type { Database } from '../../db';
import { writeAudit } from '../../db/queries/audit';
import { updateUserProfileRow } from '../../db/queries/user-directory';
import type { Clock } from '../clock';
import type { Actor } from './actor';
import { NotFoundError, parseInput } from './errors';
import { newUserSchema } from './users';

/** A user's profile fields: email and display name. Role and state have their own actions. */

export const userProfileSchema = z.strictObject(
  {
    email: newUserSchema.shape.email,
    displayName: newUserSchema.shape.displayName,
  },
  { error: (issue) => (issue.code === 'unrecognized_keys' ? `Unknown field: ${issue.keys.join(', ')}.` : 'Expected an object.') },
);

export type UserProfilePatch = z.input<typeof userProfileSchema>;

/**
 * Sets the given fields (null clears one); fields left out keep their values. A
 * change and its audit entry share one transaction; no change, no entry.
 * @throws ValidationError, NotFoundError('user')
 */
export async function updateUserProfile(
  db: Kysely<Database>,
  userId: string,
  input: unknown,
  actor: Actor,
  clock: Clock,
): Promise<{ changed: string[] }> {
  const profile = parseInput(userProfileSchema, input);
  // NOTE: the user counts read neither field, so a profile change leaves them as they are.
  return db.transaction().execute((trx) => changeUserProfile(trx, userId, profile, actor, clock.now()));
}

/** updateUserProfile()'s change, inside the caller's transaction (input already validated). */
export async function changeUserProfile(
  trx: Kysely<Database>,
  userId: string,
  profile: z.output<typeof userProfileSchema>,
  actor: Actor,
  now: number,
): Promise<{ changed: string[] }> {
  const patch: { email?: string | null; displayName?: string | null } = {};
  if (profile.email !== undefined) patch.email = profile.email || null;
  if (profile.displayName !== undefined) patch.displayName = profile.displayName || null;
  const before = await updateUserProfileRow(trx, userId, patch);
  if (!before) throw new NotFoundError('user', [userId]);
  const changed = (Object.keys(patch) as (keyof typeof patch)[]).filter((key) => before[key] !== patch[key]);
  if (changed.length > 0) {
    await writeAudit(trx, {
      at: now,
      actorId: actor.id,
      actorLabel: actor.label,
      action: 'user.profile_updated',
      targetType: 'user',
      targetId: userId,
      details: Object.fromEntries(changed.map((key) => [key, { from: before[key], to: patch[key] }])),
      clientIp: actor.clientIp,
    });
  }
  return { changed };
}
