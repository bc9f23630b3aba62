'use server';

import { redirect } from 'next/navigation';
import { getDb } from '../../../../db';
import { systemClock } from '../../../../lib/clock';
import { safeReturnPath } from '../../../../lib/auth/return-path';
import {
  clearPendingTotp,
  readPendingTotp,
  setSessionCookie,
  writeRecoveryCodesToShow,
} from '../../../../lib/factors/cookies';
import { nextState, pathOf, withNotice } from '../../../../lib/factors/setup-flow';
import { confirmTotpSetup } from '../../../../lib/factors/totp';
import { guardSetup } from '../../../../lib/factors/setup-guard';
import { verifyPath } from '../../../../lib/factors/verify-path';

function field(formData: FormData, name: string): unknown {
  const values = formData.getAll(name);
  return values.length === 1 ? values[0] : values;
}

/** "Verify" on the setup page: store the device once its code is right (R-E6), then move on (R-E7). */
export async function confirmTotp(formData: FormData): Promise<void> {
  const returnTo = safeReturnPath(formData.get('returnTo'));
  // R-D9: the same access check as the page, again.
  const guard = await guardSetup('totp', returnTo, pathOf('totp_scan', returnTo));
  if (!guard.ok) redirect(guard.redirectTo);

  const db = await getDb();
  const pending = await readPendingTotp(guard.session.userId);
  const result = await confirmTotpSetup(
    db.kysely,
    guard.session,
    pending,
    { code: field(formData, 'code'), name: field(formData, 'name') },
    guard.client,
    systemClock,
  );
  if (!result.ok) {
    switch (result.reason) {
      case 'invalid_code':
      case 'invalid_name':
        redirect(pathOf('totp_scan', returnTo, { error: result.reason }));
      case 'expired':
        await clearPendingTotp();
        redirect(pathOf('totp_scan', returnTo, { error: 'expired' }));
      case 'replaced_missing':
        await clearPendingTotp();
        redirect('/portal/security?error=not_found');
      case 'session_gone':
        redirect(`/login?returnTo=${encodeURIComponent(returnTo)}`);
      case 'not_fresh':
        // R-E8: re-challenge, then back to this setup (the pending device waits).
        redirect(verifyPath({ returnTo: pathOf('totp_scan', returnTo), fresh: true, why: 'factor_change' }));
    }
  }

  await clearPendingTotp();
  await setSessionCookie(result.token);
  const state = nextState('totp_scan', { type: 'totp_verified', firstFactor: result.recoveryCodes !== null }, guard.context);
  if (state === 'recovery_codes') await writeRecoveryCodesToShow(guard.session.userId, result.recoveryCodes!, 'totp');
  const to = pathOf(state ?? 'done', returnTo);
  // The last step: the portal says so (a first factor says it after its recovery codes).
  redirect(state === 'recovery_codes' ? to : withNotice(to, guard.mode === 'add' ? 'added' : 'mfa_set_up', result.factorId));
}
