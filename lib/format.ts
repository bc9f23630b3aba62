const dateFormat = new Intl.DateTimeFormat('en-GB', {
  day: 'numeric',
  month: 'short',
  year: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  timeZone: 'UTC',
  timeZoneName: 'short',
});


/** "5 Dec 2026, 09:00 UTC": every date shown to people is in UTC, labelled as such. */
export function formatDateTime(ms: number): string {
  return dateFormat.format(new Date(ms));
}

