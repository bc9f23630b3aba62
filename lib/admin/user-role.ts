import { z } from 'zod';
import type { Kysely } from 'kysely';
import type { Database } from '../../db';
import type { UserRole } from '../../db/schema';
import { writeAudit } from '../../db/queries/audit';
import { countAdmins, getUserById, setUserRole as setUserRoleRow } from '../../db/queries/users';
import type { Clock } from '../clock';
import type { Actor } from './actor';
import { ConflictError, NotFoundError, ValidationError } from './errors';
import { personRoles } from './permissions';

/**
 * Role changes have this one explicit, audited action; no form or API body that edits a
 * user can carry a role (no mass assignment).
 */

export const roleMessage = 'Role must be "user", "helpdesk" or "admin".';
/** What each role may do: lib/admin/permissions.ts. */
export const roleSchema = z.enum(personRoles, roleMessage);

export const lastAdminMessage = 'This is the last admin: make someone else an admin first.';

/**
 * Makes a user an admin, helpdesk or a plain user. The last admin cannot be demoted, so the console
 * always has someone who can open it. Setting the current role again changes nothing.
 * @throws ValidationError({role}), NotFoundError('user'), ConflictError for the last admin.
 */
export async function changeUserRole(
  db: Kysely<Database>,
  userId: string,
  role: unknown,
  actor: Actor,
  clock: Clock,
): Promise<{ changed: boolean; role: UserRole }> {
  const parsed = roleSchema.safeParse(role);
  if (!parsed.success) throw new ValidationError({ role: [roleMessage] });
  const next = parsed.data;
  return db.transaction().execute(async (trx) => {
    const user = typeof userId === 'string' && userId.length <= 200 ? await getUserById(trx, userId) : undefined;
    if (!user) throw new NotFoundError('user', [String(userId).slice(0, 200)]);
    if (user.role === next) return { changed: false, role: next };
    // NOTE: write first, then count what is left. On SQLite writers are serialised, so two
    // admins demoting each other at once cannot both pass. On PostgreSQL (read committed)
    // they could, each counting the other's row before it commits; recovery is the CLI.
    await setUserRoleRow(trx, user.id, next);
    // Only an admin's demotion can leave none (a user made helpdesk with no admin around is fine).
    if (user.role === 'admin' && (await countAdmins(trx)) === 0) throw new ConflictError(lastAdminMessage, 'role');
    await writeAudit(trx, {
      at: clock.now(),
      actorId: actor.id,
      actorLabel: actor.label,
      action: 'user.role_changed',
      targetType: 'user',
      targetId: user.id,
      details: { from: user.role, to: next },
      clientIp: actor.clientIp,
    });
    return { changed: true, role: next };
  });
}
