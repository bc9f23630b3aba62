import type { Kysely } from 'kysely';
import type { Database } from '../../db';
import { writeAudit } from '../../db/queries/audit';
import type { SessionContext } from '../auth/sessions';

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
