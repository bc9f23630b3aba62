import { describe, expect, it } from 'vitest';
import { oneDay, oneHour, oneMinute } from '../../../lib/clock';
import { parseReminderOffsets, readMailConfig } from '../../../lib/mail/config';
import { describeDelivery, retryDelayMs } from '../../../lib/mail/worker';
import { messageIdFor } from '../../../lib/mail/transport';

describe('PORTCULLIS_REMINDER_OFFSETS', () => {
  it('default "3d,1d"', () => {
    expect(parseReminderOffsets('3d,1d')).toEqual([3 * oneDay, oneDay]);
  });

  it('hours and minutes, sorted longest first, duplicates dropped', () => {
    expect(parseReminderOffsets('12h, 2d ,30m,2d')).toEqual([2 * oneDay, 12 * oneHour, 30 * oneMinute]);
  });

  it('"none" or empty: no reminders', () => {
    expect(parseReminderOffsets('none')).toEqual([]);
    expect(parseReminderOffsets('')).toEqual([]);
  });

  it.each(['3', '0d', '-1d', '1.5d', '3w', '366d', 'soon'])('refuses %j', (value) => {
    expect(() => parseReminderOffsets(value)).toThrow(RangeError);
  });

  it('readMailConfig reads the origin, the From and the offsets; a bad offset refuses, never a silent default', () => {
    const config = readMailConfig({ PORTCULLIS_REMINDER_OFFSETS: '2d,12h', PORTCULLIS_ORIGIN: 'https://mfa.example.com/' });
    expect(config.reminderOffsetsMs).toEqual([2 * oneDay, 12 * oneHour]);
    expect(config.origin).toBe('https://mfa.example.com');
    expect(config.from).toBe('Portcullis <no-reply@mfa.example.com>');
    expect(config.smtpUrl).toBeUndefined();
    expect(() => readMailConfig({ PORTCULLIS_REMINDER_OFFSETS: 'weekly' })).toThrow(/^PORTCULLIS_REMINDER_OFFSETS: Reminder offset "weekly"/);
  });
});

describe('delivery settings', () => {
  it('retries back off exponentially from 30 s and stop growing at an hour', () => {
    expect([1, 2, 3, 4, 7, 8, 9, 20, 1000].map(retryDelayMs)).toEqual([
      30_000, 60_000, 120_000, 240_000, 1_920_000, 3_600_000, 3_600_000, 3_600_000, 3_600_000,
    ]);
  });

  it('the Message-ID is derived from the idempotency key: stable across attempts and workers', () => {
    const a = messageIdFor('enrollment_started:u1:1000', 'https://mfa.example.com');
    expect(a).toBe(messageIdFor('enrollment_started:u1:1000', 'https://mfa.example.com'));
    expect(a).not.toBe(messageIdFor('enrollment_started:u1:1001', 'https://mfa.example.com'));
    expect(a).toMatch(/^<[0-9a-f]{40}\.portcullis@mfa\.example\.com>$/);
  });

  it('the start-up line names the SMTP host but never its credentials', () => {
    expect(describeDelivery('smtps://mailer:s3cret@smtp.example.com:465')).toBe('SMTPS smtp.example.com:465');
    expect(describeDelivery(undefined)).toContain('outbox');
  });
});
