import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Kysely } from 'kysely';
import type { Database } from '../../db';
import { writeAudit } from '../../db/queries/audit';
import { getUserByUsername, insertUser } from '../../db/queries/users';
import type { Clock } from '../clock';
import { hashPassword, maxPasswordLength } from '../auth/password';
import { checkNewPassword, minPasswordLengthAlone, normalizePassword } from '../auth/password-policy';
import type { Actor } from './actor';
import { ConflictError, ValidationError, parseInput } from './errors';
import { inviteInTransaction, invitationMessages } from './invitations';
import { personRoles } from './permissions';
import { invalidateUserCounts } from './user-directory';
import { graceAuditDetails, openGraceOnActivation } from './grace-windows';

/**
 * A new account has no second factor yet, so its password is its only factor: checkNewPassword's
 * rules for that case (15 code points after NFKC, not on the blocklist). In the schema, so a
 * refusal is listed with the other fields' and the API answers it as a validation problem.
 * JSON Schema's minLength counts code points too, so the document says the same.
 */
const newAccountPassword = z
  .string()
  .superRefine((password, ctx) => {
    const checked = checkNewPassword(password, { hasSecondFactor: false });
    if (!checked.ok) ctx.addIssue({ code: 'custom', message: checked.message });
  })
  .meta({
    minLength: minPasswordLengthAlone,
    maxLength: maxPasswordLength,
    description: 'Code points after NFKC; any characters. Refused when on the list of common or breached passwords, ignoring case.',
  });

export const newUserSchema = z.object({
  username: z
    .string()
    .trim()
    .min(1, 'Username is required.')
    .max(128, 'Username is at most 128 characters.')
    .regex(/^[\p{L}\p{N}._@+-]+$/u, 'Username may contain letters, digits and . _ @ + - only.'),
  email: z.string().trim().max(254).email('Enter a valid email address.').nullish(),
  displayName: z.string().trim().max(200).nullish(),
  password: newAccountPassword.nullish(),
  state: z.enum(['staged', 'active', 'suspended']).default('active'),
  /** The CLI's create-admin and seeds only: the API body and the console form never carry a role. */
  role: z.enum(personRoles).default('user'),
  /** Send an invitation to set a password (lib/admin/invitations.ts) instead of setting one. */
  invite: z.boolean('Invite must be true or false.').optional(),
});

export type NewUserInput = z.input<typeof newUserSchema>;

/**
/**
 * Creates a user (and audits it in the same transaction). Usernames are unique case-insensitively.
 * A password must meet the rules for an account with no second factor yet (15 characters, not
 * on the blocklist); its NFKC form is hashed. With `invite`, no password: the user gets an
 * invitation to set one (now when active, at activation when staged), in the same transaction.
 */
export async function createUser(db: Kysely<Database>, input: unknown, actor: Actor, clock: Clock): Promise<{ id: string }> {
  const data = parseInput(newUserSchema, input);
  if (data.invite) {
    if (data.password) throw new ValidationError({ password: [invitationMessages.withPassword] });
    if (!data.email) throw new ValidationError({ email: [invitationMessages.noEmail] });
    if (data.state === 'suspended') throw new ValidationError({ state: [invitationMessages.suspended] });
  }
  // The schema has checked the password; its NFKC form is what sign-in verifies first.
  const passwordHash = data.password == null ? null : await hashPassword(normalizePassword(data.password));
  const id = randomUUID();
  await db.transaction().execute(async (trx) => {
    if (await getUserByUsername(trx, data.username)) {
      throw new ConflictError(`A user named "${data.username}" already exists.`, 'username');
    }
    const now = clock.now();
    await insertUser(trx, {
      id,
      username: data.username,
      email: data.email ?? null,
      displayName: data.displayName ?? null,
      passwordHash,
      state: data.state,
      role: data.role,
      createdAt: now,
    });
    // Issue 18 part 6: created active is entering the scope of every All Users policy with grace.
    const grace = data.state === 'active' ? await openGraceOnActivation(trx, id, now) : [];
    await writeAudit(trx, {
      at: now,
      actorId: actor.id,
      actorLabel: actor.label,
      action: 'user.created',
      targetType: 'user',
      targetId: id,
      details: { username: data.username, state: data.state, role: data.role, ...graceAuditDetails(grace) },
      clientIp: actor.clientIp,
    });
    if (data.invite) {
      const issued = await inviteInTransaction(trx, { id, state: data.state }, actor, now);
      await writeAudit(trx, {
        at: now,
        actorId: actor.id,
        actorLabel: actor.label,
        action: 'user.invited',
        targetType: 'user',
        targetId: id,
        details: { expiresAt: issued.expiresAt, queued: issued.queued },
        clientIp: actor.clientIp,
      });
    }
  });
  invalidateUserCounts(db);
  return { id };
}
