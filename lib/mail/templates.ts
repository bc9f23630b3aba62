import { formatDateTime } from '../format';
import type { MailKind } from '../../db/schema';

/**
 * The messages, each as plain text and simple HTML built from the same blocks, so the two
 * cannot say different things. Pure: facts and origin in, subject and bodies out.
 * Everything interpolated into the HTML is escaped.
 */

/** Why an enrollment period began: requirement set (R-B1/R-B2), activation (R-B4), reset (R-F4). */
export type EnrollmentReason = 'required' | 'activated' | 'reset';

export interface EnrollmentStartedParams {
  name: string;
  enrollmentDays: number;
  periodStartsAt: number;
  periodEndsAt: number;
  reason: EnrollmentReason;
}

export interface ReminderParams {
  name: string;
  periodEndsAt: number;
  /** How long before the end this reminder was due. */
  offsetMs: number;
}

export interface ExpiredParams {
  name: string;
  periodEndsAt: number;
}

export interface FactorNoticeParams {
  name: string;
  at: number;
  factorType: string | null;
  factorName: string | null;
}

/** R-I2: repeated second-factor failures on the account. */
export interface SecondFactorFailuresParams {
  name: string;
  at: number;
  /** Failures in the rolling day when the message was queued. */
  failures: number;
}

export type MailMessage =
  | { kind: 'enrollment_started'; params: EnrollmentStartedParams }
  | { kind: 'enrollment_reminder'; params: ReminderParams }
  | { kind: 'enrollment_expired'; params: ExpiredParams }
  | { kind: 'factor_added' | 'factor_removed' | 'recovery_code_used'; params: FactorNoticeParams }
  | { kind: 'second_factor_failures'; params: SecondFactorFailuresParams };

export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
  /** Links marked loggable (no secrets in them): what the server log may print. */
  loggableLinks: string[];
}

/** Path of the TOTP setup page; the sign-in page keeps it as its return path (safeReturnPath). */
export const totpSetupPath = '/mfa/setup/totp';

/** R-B5: signs in, then lands straight on TOTP setup. */
export function totpSetupLink(origin: string): string {
  return `${origin}/login?returnTo=${totpSetupPath}`;
}

export function securityPageLink(origin: string): string {
  return `${origin}/login?returnTo=/portal/security`;
}

export function escapeHtml(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

function plural(n: number, unit: string): string {
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}

/** "3 days", "1 day", "12 hours", "30 minutes": the largest whole unit. */
export function describeDuration(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  if (minutes % (24 * 60) === 0) return plural(minutes / (24 * 60), 'day');
  if (minutes % 60 === 0) return plural(minutes / 60, 'hour');
  return plural(minutes, 'minute');
}

const factorLabels: Record<string, string> = {
  totp: 'authenticator app (TOTP)',
  webauthn: 'security key or passkey',
  duo: 'Duo device',
};

function factorPhrase(params: FactorNoticeParams): string {
  const label = (params.factorType && factorLabels[params.factorType]) || 'sign-in method';
  return params.factorName ? `${label} "${params.factorName}"` : label;
}

/**
 * `loggable`: the link carries nothing secret (no token, no code), so the server log may print
 * it for messages kept in the outbox (lib/mail/transport.ts). Unmarked links are never logged.
 */
type Block = { p: string } | { link: { label: string; url: string; loggable?: true } } | { small: string };

interface Draft {
  subject: string;
  blocks: Block[];
}

const notYou = 'If this wasn’t you, contact your administrator right away: someone else may know your password.';

function draft(message: MailMessage, origin: string): Draft {
  switch (message.kind) {
    case 'second_factor_failures': {
      const p = message.params;
      return {
        subject: 'Someone is trying codes to sign in to your account',
        blocks: [
          { p: `Hello ${p.name},` },
          {
            p: `${plural(p.failures, 'wrong second-factor code')} were tried on your account in the last day, the latest on ${formatDateTime(p.at)}.`,
          },
          { p: 'Someone who knows your password is trying codes. Change your password now, and tell your administrator.' },
          { link: { label: 'Sign in and change your password', url: securityPageLink(origin) } },
          { small: 'Your sign-in methods still work: wrong codes slow down only the place they come from. You get this message at most once a day.' },
        ],
      };
    }
    case 'enrollment_started': {
      const p = message.params;
      const days = plural(p.enrollmentDays, 'day');
      const ends = formatDateTime(p.periodEndsAt);
      const why =
        p.reason === 'reset'
          ? 'Your administrator reset your authenticator app enrollment, so you need to set up an authenticator app (TOTP) again.'
          : 'Your organization now requires multi-factor authentication (MFA) for the User Portal.';
      return {
        subject: `Set up multi-factor authentication within ${days}`,
        blocks: [
          { p: `Hello ${p.name},` },
          { p: why },
          { p: `You have ${days} to set up an authenticator app (TOTP): until ${ends}.` },
          { link: { label: 'Set up your authenticator app', url: totpSetupLink(origin), loggable: true } },
          { p: 'After you sign in, you go straight to the authenticator app setup.' },
          {
            small: `Until you set it up you can skip this step when you sign in. After ${ends} you can no longer sign in to the User Portal until an administrator resets your enrollment.`,
          },
        ],
      };
    }
    case 'enrollment_reminder': {
      const p = message.params;
      const ends = formatDateTime(p.periodEndsAt);
      return {
        subject: `Reminder: set up multi-factor authentication by ${ends}`,
        blocks: [
          { p: `Hello ${p.name},` },
          { p: `You have not set up an authenticator app (TOTP) yet. Your enrollment period ends in ${describeDuration(p.offsetMs)}, on ${ends}.` },
          { link: { label: 'Set up your authenticator app', url: totpSetupLink(origin), loggable: true } },
          { small: 'After the period ends you can no longer sign in to the User Portal until an administrator resets your enrollment.' },
        ],
      };
    }
    case 'enrollment_expired': {
      const p = message.params;
      return {
        subject: 'Your User Portal access is locked: multi-factor authentication was not set up',
        blocks: [
          { p: `Hello ${p.name},` },
          { p: `Your enrollment period for multi-factor authentication ended on ${formatDateTime(p.periodEndsAt)}, and no authenticator app was set up.` },
          { p: 'You are locked out of the User Portal. Contact your administrator: they can reset your enrollment and give you a new period.' },
        ],
      };
    }
    case 'factor_added':
    case 'factor_removed': {
      const p = message.params;
      const verb = message.kind === 'factor_added' ? 'added to' : 'removed from';
      return {
        subject: message.kind === 'factor_added' ? 'A sign-in method was added to your account' : 'A sign-in method was removed from your account',
        blocks: [
          { p: `Hello ${p.name},` },
          { p: `A ${factorPhrase(p)} was ${verb} your account on ${formatDateTime(p.at)}.` },
          { p: notYou },
          { link: { label: 'Review your sign-in methods', url: securityPageLink(origin), loggable: true } },
        ],
      };
    }
    case 'recovery_code_used': {
      const p = message.params;
      return {
        subject: 'A recovery code was used to sign in to your account',
        blocks: [
          { p: `Hello ${p.name},` },
          { p: `A recovery code was used to sign in to your account on ${formatDateTime(p.at)}. Each code works only once.` },
          { p: notYou },
          { link: { label: 'Review your sign-in methods', url: securityPageLink(origin), loggable: true } },
        ],
      };
    }
  }
}

const footer = 'This message was sent by Portcullis, your organization’s sign-in service. Please do not reply.';

function loggableLinks(d: Draft): string[] {
  return d.blocks.flatMap((b) => ('link' in b && b.link.loggable === true ? [b.link.url] : []));
}

function toText(d: Draft): string {
  const parts = d.blocks.map((b) => ('p' in b ? b.p : 'small' in b ? b.small : `${b.link.label}:\n${b.link.url}`));
  return `${[...parts, '--', footer].join('\n\n')}\n`;
}

function toHtml(d: Draft): string {
  const body = d.blocks
    .map((b) => {
      if ('p' in b) return `<p>${escapeHtml(b.p)}</p>`;
      if ('small' in b) return `<p style="color:#555;font-size:90%">${escapeHtml(b.small)}</p>`;
      const url = escapeHtml(b.link.url);
      return `<p><a href="${url}">${escapeHtml(b.link.label)}</a><br><span style="color:#555;font-size:90%">${url}</span></p>`;
    })
    .join('\n');
  return [
    '<!doctype html>',
    `<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(d.subject)}</title></head>`,
    '<body style="font-family:system-ui,sans-serif;line-height:1.5;color:#111">',
    body,
    `<hr><p style="color:#555;font-size:85%">${escapeHtml(footer)}</p>`,
    '</body></html>',
    '',
  ].join('\n');
}

/** The subject alone (needs no origin): stored when the message is queued, for the admin's list. */
export function renderSubject(message: MailMessage): string {
  return draft(message, '').subject;
}

/**
 * @example renderMail({ kind: 'enrollment_started', params }, 'https://mfa.example.com').text
 */
export function renderMail(message: MailMessage, origin: string): RenderedMail {
  const d = draft(message, origin);
  return { subject: d.subject, text: toText(d), html: toHtml(d), loggableLinks: loggableLinks(d) };
}

/** Rebuilds a stored message; throws on a row whose params do not fit its kind. */
export function storedMessage(kind: MailKind, paramsJson: string): MailMessage {
  const params = JSON.parse(paramsJson) as Record<string, unknown>;
  if (typeof params !== 'object' || params === null || typeof params.name !== 'string') {
    throw new TypeError(`stored ${kind} message has unreadable params`);
  }
  return { kind, params } as unknown as MailMessage;
}
