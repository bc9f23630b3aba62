import { readEnv } from '../config/env';
import { oneDay, oneHour, oneMinute } from '../clock';

/** Mail settings from the environment, read in one place. */

export interface MailConfig {
  /** Public origin of the portal: every link in a message starts with it. */
  origin: string;
  /** nodemailer SMTP URL; unset → the embedded default (messages stay in the outbox table). */
  smtpUrl: string | undefined;
  /** The From header. */
  from: string;
  /** Reminder offsets before the period ends, longest first (ms). */
  reminderOffsetsMs: number[];
}

export const defaultReminderOffsets = '3d,1d';

const unitMs: Record<string, number> = { d: oneDay, h: oneHour, m: oneMinute };
const maxOffsetMs = 365 * oneDay;

/**
 * Parses PORTCULLIS_REMINDER_OFFSETS: a comma list of whole numbers with a unit (d, h, m),
 * e.g. "3d,1d" or "2d,12h"; "none" (or empty) for no reminders. Sorted longest first,
 * duplicates dropped.
 *
 * @throws RangeError naming the first entry that is not an offset.
 * @example parseReminderOffsets('3d,1d') // [259200000, 86400000]
 */
export function parseReminderOffsets(input: string): number[] {
  const trimmed = input.trim().toLowerCase();
  if (trimmed === '' || trimmed === 'none') return [];
  const out = new Set<number>();
  for (const part of trimmed.split(',')) {
    const match = /^\s*(\d{1,6})\s*([dhm])\s*$/.exec(part);
    const ms = match ? Number(match[1]) * unitMs[match[2]!]! : NaN;
    if (!match || ms <= 0 || ms > maxOffsetMs) {
      throw new RangeError(`Reminder offset "${part.trim()}" is not a duration like 3d, 12h or 30m (at most 365d).`);
    }
    out.add(ms);
  }
  return [...out].sort((a, b) => b - a);
}

/** `Portcullis <no-reply@HOST>`, HOST being the origin's: the From when PORTCULLIS_MAIL_FROM is unset. */
export function defaultFrom(origin: string): string {
  let host = 'localhost';
  try {
    host = new URL(origin).hostname || host;
  } catch {
    /* keep localhost */
  }
  return `Portcullis <no-reply@${host}>`;
}

const bareAddress = /^[^\s@<>",;:()\[\]\\]+@[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?$/i;

/**
 * PORTCULLIS_MAIL_FROM: `address@host` or `Display Name <address@host>`, one address, no
 * line breaks or other control characters (it becomes a header of every message).
 * @throws Error naming the variable
 * @example parseMailFrom('Portcullis <mfa@example.com>') // 'Portcullis <mfa@example.com>'
 */
export function parseMailFrom(raw: string): string {
  const text = raw.trim();
  const named = /^([^<>]*)<([^<>]+)>$/.exec(text);
  const address = named ? named[2]!.trim() : text;
  const name = named ? named[1]!.trim() : '';
  if (text.length > 320 || /[\u0000-\u001f\u007f]/.test(text) || /[",;]/.test(name) || !bareAddress.test(address)) {
    throw new Error('PORTCULLIS_MAIL_FROM must be one address, e.g. mfa@example.com or Portcullis <mfa@example.com>');
  }
  return text;
}

/**
 * SMTP_URL: nodemailer's `smtp://user:pass@host:587` or `smtps://…:465` (query options such
 * as `?ignoreTLS=true` pass through). The message never repeats the URL: it holds a password.
 * @throws Error naming the variable
 */
export function parseSmtpUrl(raw: string): string {
  const text = raw.trim();
  let url: URL;
  try {
    url = new URL(text);
    decodeURIComponent(url.username);
    decodeURIComponent(url.password);
  } catch {
    throw new Error('SMTP_URL is not a readable URL: smtp://user:password@host:587 or smtps://user:password@host:465 (special characters percent-encoded)');
  }
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') throw new Error('SMTP_URL must start with smtp:// or smtps://');
  if (url.hostname === '') throw new Error('SMTP_URL names no host: smtp://user:password@host:587');
  return text;
}

/**
 * The mail configuration. Every value was checked at start (lib/config/schema.ts); a bad
 * one met here anyway (a test, a tool) throws the same message rather than falling back.
 */
export function readMailConfig(env: Readonly<Record<string, string | undefined>> = process.env): MailConfig {
  const base = readEnv(env as NodeJS.ProcessEnv);
  let reminderOffsetsMs: number[];
  try {
    reminderOffsetsMs = parseReminderOffsets(env.PORTCULLIS_REMINDER_OFFSETS ?? defaultReminderOffsets);
  } catch (err) {
    throw new RangeError(`PORTCULLIS_REMINDER_OFFSETS: ${(err as Error).message}`);
  }
  return {
    origin: base.origin,
    smtpUrl: base.smtpUrl,
    from: env.PORTCULLIS_MAIL_FROM || defaultFrom(base.origin),
    reminderOffsetsMs,
  };
}
