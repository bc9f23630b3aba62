'use server';

import { redirect } from 'next/navigation';
import { z } from 'zod';
import { systemClock } from '../../../lib/clock';
import { safeReturnPath } from '../../../lib/auth/return-path';
import { skipEnrollment } from '../../../lib/auth/skip-enrollment';
import { afterMethodChosen, nextState, pathOf } from '../../../lib/factors/setup-flow';
import { destinationFor, mfaPageAccess } from '../../../lib/gate';

const methodSchema = z.enum(['totp', 'webauthn']);

/** "Continue": go to the chosen method's setup step, if the decision offers that method. */
export async function continueSetup(formData: FormData): Promise<void> {
  const returnTo = safeReturnPath(formData.get('returnTo'));
  const { decision } = await mfaPageAccess(returnTo);
  if (decision.kind !== 'enroll') redirect(destinationFor(decision, returnTo) ?? returnTo);
  const method = methodSchema.safeParse(formData.get('method'));
  redirect(afterMethodChosen(method.success ? method.data : null, decision, returnTo));
}

/**
 * "Skip for now" (R-D5): only when the decision says the enrollment is skippable, and
 * remembered on this session only, so the next sign-in asks again while the period lasts.
 */
export async function skipSetup(formData: FormData): Promise<void> {
  const returnTo = safeReturnPath(formData.get('returnTo'));
  const { session, client, decision } = await mfaPageAccess(returnTo);
  const next = decision.kind === 'enroll' ? nextState('choose_method', { type: 'skip' }, { forced: decision.forced, methods: decision.methods }) : null;
  if (decision.kind !== 'enroll' || next === null) redirect(destinationFor(decision, returnTo) ?? returnTo);
  await skipEnrollment(session, decision.deadline, client, systemClock);
  redirect(pathOf(next, returnTo));
}
