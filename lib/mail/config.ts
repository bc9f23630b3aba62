import { readEnv } from '../config/env';
import { oneDay, oneHour, oneMinute } from '../clock';
import { log } from '../log';

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

function defaultFrom(origin: string): string {
  let host = 'localhost';
  try {
    host = new URL(origin).hostname || host;
  } catch {
    /* keep localhost */
  }
  return `Portcullis <no-reply@${host}>`;
}

/** The mail configuration; an unreadable PORTCULLIS_REMINDER_OFFSETS is reported through `onWarning` and the default used. */
export function readMailConfig(
  env: Readonly<Record<string, string | undefined>> = process.env,
  onWarning: (message: string) => void = (m) => log.warn(m),
): MailConfig {
  const base = readEnv(env as NodeJS.ProcessEnv);
  let reminderOffsetsMs: number[];
  try {
    reminderOffsetsMs = parseReminderOffsets(env.PORTCULLIS_REMINDER_OFFSETS ?? defaultReminderOffsets);
  } catch (err) {
    onWarning(`PORTCULLIS_REMINDER_OFFSETS: ${(err as Error).message} Using the default, ${defaultReminderOffsets}.`);
    reminderOffsetsMs = parseReminderOffsets(defaultReminderOffsets);
  }
  return {
    origin: base.origin,
    smtpUrl: base.smtpUrl,
    from: env.PORTCULLIS_MAIL_FROM || defaultFrom(base.origin),
    reminderOffsetsMs,
  };
}
