/**
 * "in 6 days", "in 3 hours", "2 days ago": how far `target` is from `now`, in the largest
 * whole unit, rounded toward now. For a deadline that never promises more time than is
 * left: 6 days and 23 hours is "in 6 days". Pure, so the server renders it and tests pin it.
 */

const minuteMs = 60_000;
const hourMs = 60 * minuteMs;
const dayMs = 24 * hourMs;

const units: readonly [Intl.RelativeTimeFormatUnit, number][] = [
  ['day', dayMs],
  ['hour', hourMs],
  ['minute', minuteMs],
];

const format = new Intl.RelativeTimeFormat('en', { numeric: 'always' });

/**
 * @param target epoch ms
 * @param now epoch ms
 * @example relativeTime(now + 6 * 86_400_000 + 5_000, now) // 'in 6 days'
 */
export function relativeTime(target: number, now: number): string {
  const diff = target - now;
  const size = Math.abs(diff);
  for (const [unit, ms] of units) {
    if (size >= ms) return format.format(Math.sign(diff) * Math.floor(size / ms), unit);
  }
  return diff >= 0 ? 'in less than a minute' : 'less than a minute ago';
}
