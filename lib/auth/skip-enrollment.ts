import { getDb } from '../../db';
import { writeAudit } from '../../db/queries/audit';
import { setSessionFields } from '../../db/queries/sessions';
import type { Clock } from '../clock';
import type { SessionContext } from './sessions';

/**
 * "Skip for now" (R-D5): remembered on this session only, so the next sign-in asks again
 * while the period lasts, and audited in the same transaction. The caller has checked that
 * the decision offers a skip.
 */
export async function skipEnrollment(session: SessionContext, deadline: number | null, client: { ip: string | null }, clock: Clock): Promise<void> {
  const db = (await getDb()).kysely;
  await db.transaction().execute(async (trx) => {
    await setSessionFields(trx, session.sessionId, { mfa_skipped: 1 });
    await writeAudit(trx, {
      at: clock.now(),
      actorId: session.userId,
      actorLabel: session.username,
      action: 'mfa.enrollment_skipped',
      targetType: 'user',
      targetId: session.userId,
      details: { deadline },
      clientIp: client.ip,
    });
  });
}
