'use server';

import { revalidatePath } from 'next/cache';
import { systemClock } from '../../../lib/clock';
import { formatDateTime } from '../../../lib/format';
import { requireAdmin } from '../../../lib/admin/console-guard';
import { requireMfaForUsers } from '../../../lib/admin/mfa-requirements';
import { daysInput, refusal, text, texts } from '../_lib/actions';
import type { FormState } from '../_lib/form-state';

/**
 * R-B2: "More actions" → "Require MFA on User Portal" for the selected rows. The service is
 * all-or-nothing; a refusal comes back with the days as typed and the rows still selected.
 */
export async function requireMfaForSelected(_previous: FormState, formData: FormData): Promise<FormState> {
  const { db, actor } = await requireAdmin('/admin/users'); // R-D9
  const userIds = texts(formData, 'userIds');
  const days = text(formData, 'enrollmentDays');
  const values = { userIds, enrollmentDays: days };
  try {
    const result = await requireMfaForUsers(db, { userIds, enrollmentDays: daysInput(days) }, actor, systemClock);
    revalidatePath('/admin/users');
    const who = `${result.updated} user${result.updated === 1 ? '' : 's'}`;
    const staged = result.preEnrollmentUserIds.length;
    return {
      ok:
        `MFA on the User Portal is now required for ${who}. ` +
        (result.periodStartedUserIds.length > 0
          ? `Enrollment period: ${result.enrollmentDays} day${result.enrollmentDays === 1 ? '' : 's'}, until ${formatDateTime(result.periodEndsAt)}.`
          : '') +
        (staged > 0 ? ` ${staged} staged user${staged === 1 ? ' is' : 's are'} in pre-enrollment: the period starts on activation.` : ''),
    };
  } catch (err) {
    return refusal(err, values);
  }
}
