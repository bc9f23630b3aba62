import type { Kysely } from 'kysely';
import type { Database } from '../../db';
import { writeAudit } from '../../db/queries/audit';
import type { SessionContext } from '../auth/sessions';
import { recoveryCodeSignInAt } from './recovery-path';

/** Who did a self-service factor action: the signed-in user, from where. */
export interface FactorActor {
  userId: string;
  username: string;
  clientIp: string | null;
}

export function factorActorOf(session: SessionContext, client: { ip: string | null }): FactorActor {
  return { userId: session.userId, username: session.username, clientIp: client.ip };
}

export async function auditFactorAction(
  db: Kysely<Database>,
  actor: FactorActor,
  at: number,
  action: string,
  details: Record<string, unknown> | null = null,
): Promise<void> {
  await writeAudit(db, {
    at,
    actorId: actor.userId,
    actorLabel: actor.username,
    action,
    targetType: 'user',
    targetId: actor.userId,
    details,
    clientIp: actor.clientIp,
  });
}

/**
 * The lost-device path on record: a device added by a session whose latest second factor was
 * a recovery code (the recovered page's offer, or the Security page within those minutes).
 * Beside the `mfa.factor_enrolled` entry, in the same transaction; nothing when the session
 * got in another way.
 */
export async function auditSetupAfterRecovery(
  db: Kysely<Database>,
  actor: FactorActor,
  session: Pick<SessionContext, 'amr'>,
  at: number,
  factor: { type: 'totp' | 'webauthn'; factorId: string },
): Promise<void> {
  const recoveryCodeAt = recoveryCodeSignInAt(session.amr);
  if (recoveryCodeAt === null) return;
  await auditFactorAction(db, actor, at, 'mfa.factor_added_after_recovery_code', { ...factor, recoveryCodeAt });
}
