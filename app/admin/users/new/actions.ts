'use server';

import { redirect } from 'next/navigation';
import { systemClock } from '../../../../lib/clock';
import { requirePermission } from '../../../../lib/admin/console-guard';
import { fromZod } from '../../../../lib/admin/errors';
import { setRequirementSchema, setUserMfaRequirement } from '../../../../lib/admin/mfa-requirements';
import { createUser } from '../../../../lib/admin/users';
import { daysInput, refusal, text } from '../../_lib/actions';
import type { FormState } from '../../_lib/form-state';

/**
 * Creates a user, with the R-B1 requirement when ticked. The role is never read from the
 * form: new users are plain users, and "Change role" on their page is the only way up.
 */
export async function createUserAction(_previous: FormState, formData: FormData): Promise<FormState> {
  const { db, actor } = await requirePermission('users.create', '/admin/users/new'); // R-D9
  const requireMfa = text(formData, 'requireMfa') === 'on';
  const invite = text(formData, 'invite') === 'on';
  const days = text(formData, 'enrollmentDays');
  const input = {
    username: text(formData, 'username'),
    email: text(formData, 'email').trim() || null,
    displayName: text(formData, 'displayName').trim() || null,
    password: text(formData, 'password') || null,
    state: text(formData, 'state'),
    role: 'user' as const,
    invite,
  };
  // Never echo the password back into the page.
  const values = {
    username: input.username,
    email: text(formData, 'email'),
    displayName: text(formData, 'displayName'),
    state: input.state,
    requireMfa: requireMfa ? 'on' : '',
    invite: invite ? 'on' : '',
    enrollmentDays: days,
  };
  let id: string;
  try {
    // The days are checked before anything is created, so a bad value changes nothing.
    if (requireMfa) {
      const parsed = setRequirementSchema.safeParse({ required: true, enrollmentDays: daysInput(days) });
      if (!parsed.success) throw fromZod(parsed.error);
    }
    ({ id } = await createUser(db, input, actor, systemClock));
    if (requireMfa) await setUserMfaRequirement(db, id, { required: true, enrollmentDays: daysInput(days) }, actor, systemClock);
  } catch (err) {
    return refusal(err, values);
  }
  redirect(`/admin/users/${encodeURIComponent(id)}?done=created`);
}
