'use server';

import { redirect } from 'next/navigation';
import { getAccessContext } from '../../../lib/gate';
import { safeReturnPath } from '../../../lib/auth/return-path';
import { clearRecoveryCodesToShow } from '../../../lib/factors/cookies';
import { nextState, pathOf } from '../../../lib/factors/setup-flow';

/** "Continue" after the codes: they are gone from the browser, and the user moves on (R-E7). */
export async function acknowledgeRecoveryCodes(formData: FormData): Promise<void> {
  const returnTo = safeReturnPath(formData.get('returnTo'));
  const { session } = await getAccessContext();
  await clearRecoveryCodesToShow();
  if (!session) redirect(`/login?returnTo=${encodeURIComponent(returnTo)}`);
  const state = nextState('recovery_codes', { type: 'codes_acknowledged' }, { forced: false, methods: ['totp'] });
  redirect(pathOf(state ?? 'done', returnTo));
}
