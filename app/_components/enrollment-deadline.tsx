import { formatDateTime } from '../../lib/format';
import { relativeTime } from '../../lib/relative-time';
import { LocalDateTime } from './local-date-time';

/** "in 6 days (Wed, 9 Dec 2026, 10:00 CET)": when the enrollment period ends, relative and in local time. */
export function EnrollmentDeadline({ deadline, now }: { deadline: number; now: number }) {
  return (
    <strong data-testid="enrollment-deadline">
      {relativeTime(deadline, now)} (<LocalDateTime ms={deadline} fallback={formatDateTime(deadline)} />)
    </strong>
  );
}
