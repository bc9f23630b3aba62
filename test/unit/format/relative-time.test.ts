import { describe, expect, it } from 'vitest';
import { relativeTime } from '../../../lib/relative-time';

const now = Date.UTC(2026, 11, 3, 15, 0);
const minute = 60_000;
const hour = 60 * minute;
const day = 24 * hour;

describe('relativeTime: how far a deadline is, never more than is left', () => {
  it.each([
    ['Sonia skipped on the first day of seven', 7 * day, 'in 7 days'],
    ['six days and 23 hours are still "in 6 days"', 6 * day + 23 * hour, 'in 6 days'],
    ['exactly one day', day, 'in 1 day'],
    ['under a day counts hours', 23 * hour + 59 * minute, 'in 23 hours'],
    ['one hour', hour, 'in 1 hour'],
    ['under an hour counts minutes', 59 * minute + 59_000, 'in 59 minutes'],
    ['one minute', minute, 'in 1 minute'],
    ['seconds left', 30_000, 'in less than a minute'],
    ['right now', 0, 'in less than a minute'],
    ['a deadline just passed', -30_000, 'less than a minute ago'],
    ['two days ago', -2 * day - hour, '2 days ago'],
  ])('%s', (_name, offset, expected) => {
    expect(relativeTime(now + offset, now)).toBe(expected);
  });
});
