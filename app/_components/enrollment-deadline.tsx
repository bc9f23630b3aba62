import { formatDateTime } from '../../lib/format';
import { relativeTime } from '../../lib/relative-time';
import { LocalDateTime } from './local-date-time';

/** "Thu, Dec 10, 2026, 10:00 AM EST (in 6 days)": when the enrollment period ends, in local time and relative. */
export function EnrollmentDeadline({ deadline, now }: { deadline: number; now: number }) {
  return (
    <span data-testid="enrollment-deadline">
      <strong>
        <LocalDateTime ms={deadline} fallback={formatDateTime(deadline)} />
      </strong>{' '}
      ({relativeTime(deadline, now)})
    </span>
  );
}
