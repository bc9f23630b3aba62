'use server';

import { redirect } from 'next/navigation';
import { z } from 'zod';
import { getAccessContext } from '../../../lib/gate';
import { safeReturnPath } from '../../../lib/auth/return-path';
import { clearRecoveryCodesToShow } from '../../../lib/factors/cookies';
import { nextState, pathOf, withNotice } from '../../../lib/factors/setup-flow';

const causeSchema = z.enum(['totp', 'webauthn', 'regenerated']);

/**
 * "Continue" after the codes: they are gone from the browser, and the user moves on (R-E7),
 * told on the portal that setup is done (or that the new codes are in use).
 */
export async function acknowledgeRecoveryCodes(formData: FormData): Promise<void> {
  const returnTo = safeReturnPath(formData.get('returnTo'));
  const { session } = await getAccessContext();
  await clearRecoveryCodesToShow();
  if (!session) redirect(`/login?returnTo=${encodeURIComponent(returnTo)}`);
  const state = nextState('recovery_codes', { type: 'codes_acknowledged' }, { forced: false, methods: ['totp'] });
  const cause = causeSchema.safeParse(formData.get('cause'));
  const done = pathOf(state ?? 'done', returnTo);
  // The cause only picks which notice shows; a forged one changes nothing else.
  redirect(cause.success ? withNotice(done, cause.data === 'regenerated' ? 'codes_saved' : 'mfa_set_up') : done);
}
