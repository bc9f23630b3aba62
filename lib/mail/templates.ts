import { formatDateTime } from '../format';
import type { MailKind } from '../../db/schema';

/**
 * The messages, each as plain text and simple HTML built from the same blocks, so the two
 * cannot say different things. Pure: facts and origin in, subject and bodies out.
 * Everything interpolated into the HTML is escaped.
 */

/** Why an enrollment period began: requirement set (R-B1/R-B2), activation (R-B4), reset (R-F4). */
/** 'policy': a grace window began, the person newly fell under a require-MFA policy (issue 18 part 6). */
export type EnrollmentReason = 'required' | 'activated' | 'reset' | 'policy';

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
  /** Issue 18 part 6: a policy's grace window, after which setup is forced at sign-in (not a lock-out). */
  grace?: boolean;
}

/** What happens when a period ends: a lock-out (R-D6) after an individual requirement's, forced setup (R-D4) after a policy's grace. */
function afterPeriod(ends: string, grace: boolean): string {
  return grace
    ? `After ${ends} you must set it up when you sign in, with no way to skip.`
    : `After ${ends} you can no longer sign in to the User Portal until an administrator resets your enrollment.`;
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

/** Issue 15: an invitation to set one's password, or a reset link. The link is derived from `tokenId` when rendered. */
export interface AccountLinkParams {
  name: string;
  username: string;
  /** The account_tokens row; its token is derived at render time (lib/auth/account-tokens.ts). */
  tokenId: string;
  expiresAt: number;
  /** Reset only: an admin sent it ("admin") or the person asked ("self"). */
  requestedBy?: 'self' | 'admin';
}

/** Issue 15: the password was changed (by the person), reset (by a link) or first set (invitation). */
export interface PasswordChangedParams {
  name: string;
  at: number;
  how: 'changed' | 'reset' | 'set';
}

export type MailMessage =
  | { kind: 'enrollment_started'; params: EnrollmentStartedParams }
  | { kind: 'enrollment_reminder'; params: ReminderParams }
  | { kind: 'enrollment_expired'; params: ExpiredParams }
  | { kind: 'factor_added' | 'factor_removed' | 'recovery_code_used'; params: FactorNoticeParams }
  | { kind: 'second_factor_failures'; params: SecondFactorFailuresParams }
  | { kind: 'invitation' | 'password_reset'; params: AccountLinkParams }
  | { kind: 'password_changed'; params: PasswordChangedParams };

export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
  /** What the outbox keeps: the same bodies with every secret link withheld. */
  storedText: string;
  storedHtml: string;
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
type Block =
  | { p: string }
  | { link: { label: string; url: string; loggable?: true } }
  | { secretLink: { label: string; url: string } }
  | { small: string };

/** Resolves an account link's token from its row id (the worker passes lib/auth/account-tokens.ts). */
export type AccountTokenResolver = (tokenId: string) => string;

export interface RenderOptions {
  accountToken?: AccountTokenResolver;
}

/** Stands in for a secret link in what the outbox stores and the admin can read. */
export const withheldLink = '[link withheld: it works once, and only the recipient has it]';

interface Draft {
  subject: string;
  blocks: Block[];
}

const notYou = 'If this wasn’t you, contact your administrator right away: someone else may know your password.';

/** The page an invitation or reset link opens (app/account/password). */
export const setPasswordPath = '/account/password';

function accountLink(params: AccountLinkParams, origin: string, opts: RenderOptions): string {
  // Without a resolver (the subject alone) there is no link to give.
  const token = opts.accountToken ? opts.accountToken(params.tokenId) : 'unavailable';
  return `${origin}${setPasswordPath}?token=${token}`;
}

function draft(message: MailMessage, origin: string, opts: RenderOptions = {}): Draft {
  switch (message.kind) {
    case 'invitation': {
      const p = message.params;
      return {
        subject: 'You are invited to your organization’s sign-in portal',
        blocks: [
          { p: `Hello ${p.name},` },
          {
            p: 'Your organization uses Portcullis, its User Portal, for signing in and for multi-factor authentication (MFA). An account was created for you.',
          },
          { p: `Your username is: ${p.username}` },
          { p: `Choose your password with the link below. It works once, until ${formatDateTime(p.expiresAt)}.` },
          { secretLink: { label: 'Choose your password', url: accountLink(p, origin, opts) } },
          { small: 'After you choose a password you are signed in. If your organization requires it, you then set up a second factor.' },
          { small: 'If you did not expect this message, ignore it: nothing happens until the link is used.' },
        ],
      };
    }
    case 'password_reset': {
      const p = message.params;
      const who =
        p.requestedBy === 'admin'
          ? 'Your administrator sent you a link to choose a new password.'
          : 'Someone, probably you, asked to reset the password of your account.';
      return {
        subject: 'Reset your password',
        blocks: [
          { p: `Hello ${p.name},` },
          { p: `${who} Your username is: ${p.username}` },
          { p: `The link works once, until ${formatDateTime(p.expiresAt)}.` },
          { secretLink: { label: 'Choose a new password', url: accountLink(p, origin, opts) } },
          { small: 'Your current password keeps working until the link is used. A new password does not replace your second factor: you still need it to sign in.' },
          { small: 'If you did not ask for this, ignore this message, and tell your administrator if it happens again.' },
        ],
      };
    }
    case 'password_changed': {
      const p = message.params;
      const what =
        p.how === 'reset'
          ? 'was reset with a link sent to this address'
          : p.how === 'set'
            ? 'was set for the first time'
            : 'was changed';
      return {
        subject: p.how === 'set' ? 'Your password was set' : 'Your password was changed',
        blocks: [
          { p: `Hello ${p.name},` },
          { p: `The password of your account ${what}, on ${formatDateTime(p.at)}.` },
          ...(p.how === 'set' ? [] : [{ p: 'Every other session of your account was signed out.' }]),
          { p: notYou },
          { link: { label: 'Review your account', url: securityPageLink(origin), loggable: true } },
        ],
      };
    }
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
          : p.reason === 'policy'
            ? 'You now fall under a policy of your organization that requires multi-factor authentication (MFA).'
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
            small: `Until you set it up you can skip this step when you sign in. ${afterPeriod(ends, p.reason === 'policy')}`,
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
          { small: p.grace ? afterPeriod(ends, true) : 'After the period ends you can no longer sign in to the User Portal until an administrator resets your enrollment.' },
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

/** The draft as the outbox keeps it: secret links withheld. */
function withheld(d: Draft): Draft {
  return {
    subject: d.subject,
    blocks: d.blocks.map((b) => ('secretLink' in b ? { p: `${b.secretLink.label}: ${withheldLink}` } : b)),
  };
}

function linkOf(b: Block): { label: string; url: string } | null {
  if ('link' in b) return b.link;
  if ('secretLink' in b) return b.secretLink;
  return null;
}

function toText(d: Draft): string {
  const parts = d.blocks.map((b) => {
    if ('p' in b) return b.p;
    if ('small' in b) return b.small;
    const link = linkOf(b)!;
    return `${link.label}:\n${link.url}`;
  });
  return `${[...parts, '--', footer].join('\n\n')}\n`;
}

function toHtml(d: Draft): string {
  const body = d.blocks
    .map((b) => {
      if ('p' in b) return `<p>${escapeHtml(b.p)}</p>`;
      if ('small' in b) return `<p style="color:#555;font-size:90%">${escapeHtml(b.small)}</p>`;
      const link = linkOf(b)!;
      const url = escapeHtml(link.url);
      return `<p><a href="${url}">${escapeHtml(link.label)}</a><br><span style="color:#555;font-size:90%">${url}</span></p>`;
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
export function renderMail(message: MailMessage, origin: string, opts: RenderOptions = {}): RenderedMail {
  const d = draft(message, origin, opts);
  const kept = withheld(d);
  return { subject: d.subject, text: toText(d), html: toHtml(d), storedText: toText(kept), storedHtml: toHtml(kept), loggableLinks: loggableLinks(d) };
}

/** Rebuilds a stored message; throws on a row whose params do not fit its kind. */
export function storedMessage(kind: MailKind, paramsJson: string): MailMessage {
  const params = JSON.parse(paramsJson) as Record<string, unknown>;
  if (typeof params !== 'object' || params === null || typeof params.name !== 'string') {
    throw new TypeError(`stored ${kind} message has unreadable params`);
  }
  return { kind, params } as unknown as MailMessage;
}
