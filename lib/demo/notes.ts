import { getDb } from '../../db';
import { writeAudit } from '../../db/queries/audit';
import type { SessionContext } from '../auth/sessions';
import type { Clock } from '../clock';

/** The demo app's one side effect: a note in the audit log, so an e2e test can see an action ran. */
export async function recordDemoNote(session: SessionContext, note: string, client: { ip: string | null }, clock: Clock): Promise<void> {
  await writeAudit((await getDb()).kysely, {
    at: clock.now(),
    actorId: session.userId,
    actorLabel: session.username,
    action: 'demo.note_recorded',
    targetType: 'demo',
    targetId: null,
    details: { note },
    clientIp: client.ip,
  });
}
