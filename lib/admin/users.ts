import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Kysely } from 'kysely';
import type { Database } from '../../db';
import { writeAudit } from '../../db/queries/audit';
import { getUserByUsername, insertUser } from '../../db/queries/users';
import type { Clock } from '../clock';
import { hashPassword, maxPasswordLength } from '../auth/password';
import type { Actor } from './actor';
import { ConflictError, parseInput } from './errors';
import { invalidateUserCounts } from './user-directory';

export const minPasswordLength = 8;

export const newUserSchema = z.object({
  username: z
    .string()
    .trim()
    .min(1, 'Username is required.')
    .max(128, 'Username is at most 128 characters.')
    .regex(/^[\p{L}\p{N}._@+-]+$/u, 'Username may contain letters, digits and . _ @ + - only.'),
  email: z.string().trim().max(254).email('Enter a valid email address.').nullish(),
  displayName: z.string().trim().max(200).nullish(),
  password: z
    .string()
    .min(minPasswordLength, `Password must be at least ${minPasswordLength} characters.`)
    .max(maxPasswordLength)
    .nullish(),
  state: z.enum(['staged', 'active', 'suspended']).default('active'),
  role: z.enum(['user', 'admin']).default('user'),
});

export type NewUserInput = z.input<typeof newUserSchema>;

/** Creates a user (and audits it in the same transaction). Usernames are unique case-insensitively. */
export async function createUser(db: Kysely<Database>, input: unknown, actor: Actor, clock: Clock): Promise<{ id: string }> {
  const data = parseInput(newUserSchema, input);
  const passwordHash = data.password ? await hashPassword(data.password) : null;
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
    await writeAudit(trx, {
      at: now,
      actorId: actor.id,
      actorLabel: actor.label,
      action: 'user.created',
      targetType: 'user',
      targetId: id,
      details: { username: data.username, state: data.state, role: data.role },
      clientIp: actor.clientIp,
    });
  });
  invalidateUserCounts(db);
  return { id };
}
