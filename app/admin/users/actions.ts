'use server';

import { revalidatePath } from 'next/cache';
import { systemClock } from '../../../lib/clock';
import { formatDateTime } from '../../../lib/format';
import { requirePermission } from '../../../lib/admin/console-guard';
import { removeMfaRequirementForUsers, requireMfaForUsers } from '../../../lib/admin/mfa-requirements';
import { daysInput, refusal, text, texts } from '../_lib/actions';
import type { FormState } from '../_lib/form-state';

function usersWord(n: number): string {
  return `${n} user${n === 1 ? '' : 's'}`;
}

/**
 * R-B2 and its counterpart: "More actions" on the selected rows. The button pressed says
 * which (`op`): "require" (Require MFA on User Portal) or "remove" (Remove MFA
 * requirement). Both services are all-or-nothing; a refusal comes back with the days as
 * typed and the rows still selected.
 */
export async function bulkUsersAction(_previous: FormState, formData: FormData): Promise<FormState> {
  const { db, actor } = await requirePermission('users.edit', '/admin/users'); // R-D9
  const userIds = texts(formData, 'userIds');
  const days = text(formData, 'enrollmentDays');
  const op = text(formData, 'op');
  const values = { userIds, enrollmentDays: days };
  try {
    if (op === 'remove') {
      const result = await removeMfaRequirementForUsers(db, { userIds }, actor, systemClock);
      revalidatePath('/admin/users');
      const removed = result.removedUserIds.length;
      const unchanged = result.unchangedUserIds.length;
      return {
        ok:
          (removed > 0 ? `MFA on the User Portal is no longer required for ${usersWord(removed)}.` : 'Nothing changed.') +
          (unchanged > 0 ? ` ${usersWord(unchanged)} had no MFA requirement.` : '') +
          (removed > 0 ? ' A policy may still require MFA of them.' : ''),
      };
    }
    if (op !== 'require') return { error: 'Choose an action from “More actions”.', values };
    const result = await requireMfaForUsers(db, { userIds, enrollmentDays: daysInput(days) }, actor, systemClock);
    revalidatePath('/admin/users');
    const staged = result.preEnrollmentUserIds.length;
    return {
      ok:
        `MFA on the User Portal is now required for ${usersWord(result.updated)}. ` +
        (result.periodStartedUserIds.length > 0
          ? `Enrollment period: ${result.enrollmentDays} day${result.enrollmentDays === 1 ? '' : 's'}, until ${formatDateTime(result.periodEndsAt)}.`
          : '') +
        (staged > 0 ? ` ${staged} staged user${staged === 1 ? ' is' : 's are'} in pre-enrollment: the period starts on activation.` : ''),
    };
  } catch (err) {
    return refusal(err, values);
  }
}
