'use server';

import { redirect } from 'next/navigation';
import { z } from 'zod';
import { getDb } from '../../../db';
import { writeAudit } from '../../../db/queries/audit';
import { setSessionFields } from '../../../db/queries/sessions';
import { systemClock } from '../../../lib/clock';
import { requestClient } from '../../../lib/auth/current';
import { sessionAndDecisionFor } from '../../../lib/auth/page-guards';
import { safeReturnPath } from '../../../lib/auth/return-path';
import { destinationFor } from '../../../lib/gate/access';

const methodSchema = z.enum(['totp', 'webauthn']);

/** "Continue": go to the chosen method's setup step, if the decision offers that method. */
export async function continueSetup(formData: FormData): Promise<void> {
  const returnTo = safeReturnPath(formData.get('returnTo'));
  const { decision } = await sessionAndDecisionFor(returnTo);
  if (decision.kind !== 'enroll') redirect(destinationFor(decision, returnTo) ?? returnTo);
  const method = methodSchema.safeParse(formData.get('method'));
  const chosen = method.success && decision.methods.includes(method.data) ? method.data : decision.defaultMethod;
  redirect(`/mfa/setup/${chosen}?returnTo=${encodeURIComponent(returnTo)}`);
}

/**
 * "Skip for now" (R-D5): only when the decision says the enrollment is skippable, and
 * remembered on this session only, so the next sign-in asks again while the period lasts.
 */
export async function skipSetup(formData: FormData): Promise<void> {
  const returnTo = safeReturnPath(formData.get('returnTo'));
  const { session, decision } = await sessionAndDecisionFor(returnTo);
  if (decision.kind !== 'enroll' || decision.forced) redirect(destinationFor(decision, returnTo) ?? returnTo);
  const db = await getDb();
  await db.kysely.transaction().execute(async (trx) => {
    await setSessionFields(trx, session.sessionId, { mfa_skipped: 1 });
    await writeAudit(trx, {
      at: systemClock.now(),
      actorId: session.userId,
      actorLabel: session.username,
      action: 'mfa.enrollment_skipped',
      targetType: 'user',
      targetId: session.userId,
      details: { deadline: decision.deadline },
      clientIp: (await requestClient()).ip,
    });
  });
  redirect(returnTo);
}
