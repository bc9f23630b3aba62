import { describe, expect, it } from 'vitest';
import { oneDay } from '../../../lib/clock';
import { invitationValidityMs } from '../../../lib/config/env';

/* PORTCULLIS_INVITATION_DAYS: whole days from 1 to 30, 7 when unset; anything else is refused. */
describe('how long an invitation link is valid', () => {
  it.each([
    [undefined, 7],
    ['', 7],
    ['1', 1],
    [' 14 ', 14],
    ['30', 30],
  ])('PORTCULLIS_INVITATION_DAYS=%j gives %i days', (value, days) => {
    expect(invitationValidityMs(value === undefined ? {} : { PORTCULLIS_INVITATION_DAYS: value })).toBe(days * oneDay);
  });

  it.each(['0', '31', '7.5', '-3', 'seven', '1e1', '007'])('refuses %j with a message naming the variable and the range', (value) => {
    expect(() => invitationValidityMs({ PORTCULLIS_INVITATION_DAYS: value })).toThrow(/PORTCULLIS_INVITATION_DAYS .*1 to 30/);
  });
});
