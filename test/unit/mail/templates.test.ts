import { describe, expect, it } from 'vitest';
import { oneDay, oneHour } from '../../../lib/clock';
import { formatDateTime } from '../../../lib/format';
import { safeReturnPath } from '../../../lib/auth/return-path';
import {
  describeDuration,
  escapeHtml,
  renderMail,
  renderSubject,
  storedMessage,
  totpSetupLink,
  totpSetupPath,
  withheldLink,
  type MailMessage,
} from '../../../lib/mail/templates';

const origin = 'https://mfa.example.com';
const start = Date.UTC(2026, 10, 2, 9, 0, 0);
const ends = start + 7 * oneDay;

const started = (over: Partial<Extract<MailMessage, { kind: 'enrollment_started' }>['params']> = {}): MailMessage => ({
  kind: 'enrollment_started',
  params: { name: 'Ada Lovelace', enrollmentDays: 7, periodStartsAt: start, periodEndsAt: ends, reason: 'required', ...over },
});

describe('enrollment period started (R-B5)', () => {
  const mail = renderMail(started(), origin);

  it('says how many days, the end date in UTC, and links to TOTP setup through sign-in', () => {
    expect(mail.subject).toBe('Set up multi-factor authentication within 7 days');
    expect(mail.text).toContain('Hello Ada Lovelace,');
    expect(mail.text).toContain('You have 7 days to set up an authenticator app (TOTP): until 9 Nov 2026, 09:00 UTC.');
    expect(mail.text).toContain(`${origin}/login?returnTo=/mfa/setup/totp`);
    expect(mail.html).toContain(`<a href="${origin}/login?returnTo=/mfa/setup/totp">Set up your authenticator app</a>`);
    expect(mail.html).toContain('9 Nov 2026, 09:00 UTC');
  });

  it('one day is "1 day"', () => {
    const one = renderMail(started({ enrollmentDays: 1, periodEndsAt: start + oneDay }), origin);
    expect(one.subject).toBe('Set up multi-factor authentication within 1 day');
    expect(one.text).toContain('You have 1 day to set up');
  });

  it('after an admin reset (R-F4) says the enrollment was reset', () => {
    expect(renderMail(started({ reason: 'reset' }), origin).text).toContain('reset your authenticator app enrollment');
  });

  it("the link's return path survives the sign-in page (safeReturnPath keeps it)", () => {
    const link = new URL(totpSetupLink(origin));
    expect(link.pathname).toBe('/login');
    expect(safeReturnPath(link.searchParams.get('returnTo'))).toBe(totpSetupPath);
  });
});

describe('HTML escaping', () => {
  it('escapes every interpolated value, the link included', () => {
    const mail = renderMail(started({ name: '<img src=x onerror=alert(1)> & "Bob"' }), 'https://evil.example/"><script>');
    expect(mail.html).not.toContain('<img src=x');
    expect(mail.html).not.toContain('<script>');
    expect(mail.html).toContain('&lt;img src=x onerror=alert(1)&gt; &amp; &quot;Bob&quot;');
    expect(mail.html).toContain('href="https://evil.example/&quot;&gt;&lt;script&gt;/login?returnTo=/mfa/setup/totp"');
    // The text part is plain text: nothing to escape, and nothing lost.
    expect(mail.text).toContain('Hello <img src=x onerror=alert(1)> & "Bob",');
  });

  it('escapeHtml covers the five characters', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });

  it('factor names are escaped too', () => {
    const mail = renderMail(
      { kind: 'factor_added', params: { name: 'Ada', at: start, factorType: 'totp', factorName: '<b>Phone</b>' } },
      origin,
    );
    expect(mail.html).toContain('&quot;&lt;b&gt;Phone&lt;/b&gt;&quot;');
    expect(mail.text).toContain('authenticator app (TOTP) "<b>Phone</b>" was added to your account on 2 Nov 2026, 09:00 UTC.');
  });
});

describe('reminders, expiry and factor notices', () => {
  it('a reminder says how long is left and until when', () => {
    const mail = renderMail({ kind: 'enrollment_reminder', params: { name: 'Ada', periodEndsAt: ends, offsetMs: 3 * oneDay } }, origin);
    expect(mail.subject).toBe(`Reminder: set up multi-factor authentication by ${formatDateTime(ends)}`);
    expect(mail.text).toContain(`ends in 3 days, on ${formatDateTime(ends)}`);
    expect(mail.text).toContain(totpSetupLink(origin));
  });

  it('"period ended": locked out, contact the admin, and no setup link', () => {
    const mail = renderMail({ kind: 'enrollment_expired', params: { name: 'Ada', periodEndsAt: ends } }, origin);
    expect(mail.text).toContain('You are locked out of the User Portal. Contact your administrator');
    expect(mail.text).not.toContain('/mfa/setup');
  });

  it.each([
    ['factor_added', 'A sign-in method was added to your account', 'was added to your account'],
    ['factor_removed', 'A sign-in method was removed from your account', 'was removed from your account'],
    ['recovery_code_used', 'A recovery code was used to sign in to your account', 'A recovery code was used'],
  ] as const)('%s tells the user and says what to do if it was not them', (kind, subject, phrase) => {
    const mail = renderMail({ kind, params: { name: 'Ada', at: start, factorType: 'webauthn', factorName: 'YubiKey' } }, origin);
    expect(mail.subject).toBe(subject);
    expect(mail.text).toContain(phrase);
    expect(mail.text).toContain('If this wasn’t you, contact your administrator');
    expect(mail.html).toContain('<p>');
  });

  it('second_factor_failures: someone who knows the password is trying codes; change the password (R-I2)', () => {
    const mail = renderMail({ kind: 'second_factor_failures', params: { name: 'Bob <b>', at: start, failures: 10 } }, origin);
    expect(mail.subject).toBe('Someone is trying codes to sign in to your account');
    expect(mail.text).toContain('10 wrong second-factor codes were tried on your account in the last day');
    expect(mail.text).toContain('Someone who knows your password is trying codes. Change your password now');
    expect(mail.text).toContain(`${origin}/login?returnTo=/portal/security`);
    expect(mail.html).toContain('Bob &lt;b&gt;');
    expect(mail.html).not.toContain('<b>');
  });

  it('the subject needs no origin (it is stored at enqueue time)', () => {
    expect(renderSubject(started())).toBe(renderMail(started(), origin).subject);
  });

  it('durations read in the largest whole unit', () => {
    expect([3 * oneDay, oneDay, 12 * oneHour, oneHour, 30 * 60_000].map(describeDuration)).toEqual([
      '3 days',
      '1 day',
      '12 hours',
      '1 hour',
      '30 minutes',
    ]);
  });

  it('a stored row turns back into the message; unreadable params throw', () => {
    const m = started();
    expect(storedMessage('enrollment_started', JSON.stringify(m.params))).toEqual(m);
    expect(() => storedMessage('enrollment_started', '{"days":1}')).toThrow();
    expect(() => storedMessage('enrollment_started', 'not json')).toThrow();
  });
  describe('links to set a password (issue 15)', () => {
    const token = 'T'.repeat(43);
    const link = `${origin}/account/password?token=${token}`;
    const invitation: MailMessage = {
      kind: 'invitation',
      params: { name: 'Ivy <i>', username: 'ivy', tokenId: 'row-1', expiresAt: ends },
    };
    const reset = (requestedBy: 'self' | 'admin'): MailMessage => ({
      kind: 'password_reset',
      params: { name: 'Rex', username: 'rex', tokenId: 'row-2', expiresAt: start + 30 * 60_000, requestedBy },
    });

    it('the invitation says what the portal is, gives the username, the working link and its expiry', () => {
      const mail = renderMail(invitation, origin, { accountToken: (id) => (id === 'row-1' ? token : 'wrong') });
      expect(mail.subject).toBe('You are invited to your organization’s sign-in portal');
      expect(mail.text).toContain('Your organization uses Portcullis, its User Portal, for signing in and for multi-factor authentication');
      expect(mail.text).toContain('Your username is: ivy');
      expect(mail.text).toContain(`It works once, until ${formatDateTime(ends)}.`);
      expect(mail.text).toContain(link);
      expect(mail.html).toContain(`href="${link}"`);
      expect(mail.html).toContain('Ivy &lt;i&gt;');
    });

    it('what the outbox keeps, and what the log may print, withholds the link', () => {
      const mail = renderMail(invitation, origin, { accountToken: () => token });
      for (const kept of [mail.storedText, mail.storedHtml]) {
        expect(kept).not.toContain(token);
        expect(kept).toContain(withheldLink);
      }
      expect(mail.loggableLinks).toEqual([]);
      expect(mail.storedText.replace(`Choose your password: ${withheldLink}`, '')).not.toContain('/account/password');
    });

    it('a reset says who asked for it and that the second factor is still needed', () => {
      expect(renderMail(reset('self'), origin, { accountToken: () => token }).text).toContain('Someone, probably you, asked to reset');
      const byAdmin = renderMail(reset('admin'), origin, { accountToken: () => token });
      expect(byAdmin.text).toContain('Your administrator sent you a link to choose a new password.');
      expect(byAdmin.text).toContain('you still need it to sign in');
      expect(byAdmin.text).toContain(link);
    });

    it('the password notice says how the password changed, and that other sessions ended', () => {
      const changed = renderMail({ kind: 'password_changed', params: { name: 'Carl', at: start, how: 'changed' } }, origin);
      expect(changed.subject).toBe('Your password was changed');
      expect(changed.text).toContain(`The password of your account was changed, on ${formatDateTime(start)}.`);
      expect(changed.text).toContain('Every other session of your account was signed out.');
      const wasReset = renderMail({ kind: 'password_changed', params: { name: 'Eve', at: start, how: 'reset' } }, origin);
      expect(wasReset.text).toContain('was reset with a link sent to this address');
    });
  });
});
