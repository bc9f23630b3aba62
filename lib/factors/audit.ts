import type { Kysely } from 'kysely';
import type { Database } from '../../db';
import { writeAudit } from '../../db/queries/audit';

/** Who did a self-service factor action: the signed-in user, from where. */
export interface FactorActor {
  userId: string;
  username: string;
  clientIp: string | null;
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
