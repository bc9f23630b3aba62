'use server';

import { cookies } from 'next/headers';
import { redirect } from 'next/navigation';
import { getDb } from '../../db';
import { writeAudit } from '../../db/queries/audit';
import { systemClock } from '../../lib/clock';
import { sessionCookieName } from '../../lib/auth/cookie';
import { currentSession, requestClient } from '../../lib/auth/current';
import { endSession } from '../../lib/auth/sessions';

export async function signOut(): Promise<void> {
  const session = await currentSession();
  if (session) {
    const db = await getDb();
    await endSession(db.kysely, session.sessionId);
    await writeAudit(db.kysely, {
      at: systemClock.now(),
      actorId: session.userId,
      actorLabel: session.username,
      action: 'auth.signed_out',
      targetType: 'user',
      targetId: session.userId,
      clientIp: (await requestClient()).ip,
    });
  }
  (await cookies()).delete(sessionCookieName());
  redirect('/login');
}
