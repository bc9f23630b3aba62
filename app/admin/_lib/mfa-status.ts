import { formatDateTime } from '../../../lib/format';
import type { MfaStatusName, UserMfaSummary } from '../../../lib/admin/user-directory';

/** R-F1: the MFA column's words, exactly. */
export const mfaStatusText: Record<MfaStatusName, string> = {
  enrolled: 'enrolled',
  not_enrolled: 'not enrolled',
  enrollment_period: 'in enrollment period',
  expired: 'enrollment expired',
  pre_enrollment: 'pre-enrollment',
};

/** The details behind the word, for its tooltip (title) and the user's page. */
export function mfaStatusDetail(mfa: UserMfaSummary): string {
  const days = mfa.enrollmentDays === null ? '' : `${mfa.enrollmentDays} day${mfa.enrollmentDays === 1 ? '' : 's'}`;
  switch (mfa.status) {
    case 'enrolled':
      return mfa.required ? 'MFA required; a second factor is set up.' : 'A second factor is set up (MFA not required).';
    case 'not_enrolled':
      return 'MFA not required; no second factor.';
    case 'enrollment_period':
      return `Enrollment period ${formatDateTime(mfa.enrollmentStartsAt!)} – ${formatDateTime(mfa.enrollmentEndsAt!)} (${days}).`;
    case 'expired':
      return mfa.enrollmentEndsAt === null
        ? 'Enrollment expired: no period on record.'
        : `Enrollment expired ${formatDateTime(mfa.enrollmentEndsAt)}` +
            (mfa.enrollmentStartsAt === null ? '.' : ` (period ${formatDateTime(mfa.enrollmentStartsAt)} – ${formatDateTime(mfa.enrollmentEndsAt)}).`);
    case 'pre_enrollment':
      return mfa.enrollmentDays === null
        ? 'Pre-enrollment: the enrollment period starts when the user is activated.'
        : `Pre-enrollment: a ${mfa.enrollmentDays}-day enrollment period starts when the user is activated.`;
  }
}
