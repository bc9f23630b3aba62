'use server';

import { redirect } from 'next/navigation';
import { getDb } from '../../../db';
import { systemClock } from '../../../lib/clock';
import { safeReturnPath } from '../../../lib/auth/return-path';
import { writeRecoveryCodesToShow } from '../../../lib/factors/cookies';
import { guardRecovered } from '../../../lib/factors/recovered-guard';
import { regenerateRecoveryCodes } from '../../../lib/factors/recovery-codes';
import { recoveredChoices } from '../../../lib/factors/setup-flow';
import { verifyPath } from '../../../lib/factors/verify-path';

const regenerateOnSecurityPage = '/portal/security?regenerate=1';

/**
 * "Generate new recovery codes" on the recovered page: the recovery code just passed is the
 * fresh second factor a new set needs (R-E8), checked again by the service where the codes
 * are stored. The codes are shown once, then the user is back on the recovered page.
 */
export async function regenerateAfterRecovery(formData: FormData): Promise<void> {
  const returnTo = safeReturnPath(formData.get('returnTo'));
  // R-D9: the same check as the page, again.
  const guard = await guardRecovered(returnTo);
  if (!guard.ok) redirect(guard.reason === 'not_recovered' ? regenerateOnSecurityPage : guard.redirectTo);
  const db = await getDb();
  const result = await regenerateRecoveryCodes(db.kysely, guard.session, guard.client, systemClock);
  if (!result.ok) {
    if (result.reason === 'not_fresh') redirect(verifyPath({ returnTo: regenerateOnSecurityPage, fresh: true, why: 'factor_change' }));
    redirect('/portal/security?error=no_factor');
  }
  await writeRecoveryCodesToShow(guard.session.userId, result.codes, 'regenerated');
  redirect(recoveredChoices(guard.context, returnTo).newCodes);
}
